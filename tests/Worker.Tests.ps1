# Start-JobWorker running real trainer processes (small /bin/sh scripts) in this process's
# workers: what runs, its environment, logs, exit codes, retries, timeouts, cancel, GPUs,
# graceful stop and -AsJob. Cross-process behaviour is in Worker.Processes.Tests.ps1.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Worker.Helpers.ps1')
}

Describe 'Start-JobWorker on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
    }

    BeforeEach {
        $db = New-TestDatabase -Backend $backend
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory $dir | Out-Null
    }

    It 'runs a job''s command without a shell, gives it the JOBQUEUE_* variables and a config file, and completes it on exit 0' {
        $trainer = New-FakeTrainer $dir 'env' @'
echo "id=$JOBQUEUE_JOB_ID attempt=$JOBQUEUE_ATTEMPT worker=$JOBQUEUE_WORKER_ID db=$JOBQUEUE_DATABASE"
echo "args=[$2] [$3]"
cp "$JOBQUEUE_CONFIG" "$1/config.json"
'@
        $job = Submit-TrainingJob -Database $db -Type training -Config @{ lr = 5e-5; epochs = 10; name = 'bert' } -Command $trainer, $dir, 'two words', '$HOME;|*'

        $done = @(Start-JobWorker -Database $db -WorkerId 'w-env' -ExitWhenEmpty)

        $done.Count | Should -Be 1
        $done[0].JobId | Should -Be $job.JobId
        $done[0].Status | Should -Be 'Completed'
        $done[0].ExitCode | Should -Be 0
        $done[0].WorkerId | Should -Be 'w-env'
        $lines = (Get-TrainingJobLog -Database $db -Id $job.JobId).Message
        $lines | Should -Contain "id=$($job.JobId) attempt=1 worker=w-env db=$db"
        $lines | Should -Contain 'args=[two words] [$HOME;|*]'   # passed as one argument each, nothing expanded
        $config = Get-Content (Join-Path $dir 'config.json') -Raw | ConvertFrom-Json -AsHashtable
        $config.epochs | Should -Be 10
        $config.name | Should -Be 'bert'
    }

    It 'streams stdout as INFO and stderr as WARNING lines, in order, while the trainer runs (-AsJob, Receive-Job)' {
        $trainer = New-FakeTrainer $dir 'stream' @'
i=1
while [ $i -le 40 ]; do echo "step $i"; echo "warn $i" >&2; i=$((i+1)); done
echo "waiting for go"
while [ ! -f "$1/go" ]; do sleep 0.05; done
echo "finished"
'@
        $job = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir
        $worker = Start-JobWorker -Database $db -WorkerId 'w-stream' -AsJob
        try {
            Wait-Until { (Get-TrainingJobLog -Database $db -Id $job.JobId).Message -contains 'waiting for go' } -Because 'the first lines in the log'
            (Get-TrainingJob -Database $db -Id $job.JobId).Status | Should -Be 'Running' -Because 'lines show up while the trainer still runs'
            Get-Job -Id $worker.Id | Should -Not -BeNullOrEmpty
            $worker.State | Should -Be 'Running'
            $worker.PSJobTypeName | Should -Be 'JobQueueWorker'

            New-Item -ItemType File (Join-Path $dir 'go') | Out-Null
            $finished = Wait-TrainingJob -Database $db -Id $job.JobId -Timeout 00:01:00
            $finished.Status | Should -Be 'Completed'
            Wait-Until { $worker.HasMoreData } -Because 'the worker job to emit the finished job'
            $received = @(Receive-Job $worker)
            $received.JobId | Should -Be $job.JobId
            $received.Status | Should -Be 'Completed'
        } finally {
            Stop-Job $worker
        }
        $worker.State | Should -Be 'Stopped'
        Remove-Job $worker

        $log = Get-TrainingJobLog -Database $db -Id $job.JobId
        ($log | Where-Object Level -EQ 'Info').Message | Should -Be (@(1..40 | ForEach-Object { "step $_" }) + 'waiting for go', 'finished')
        ($log | Where-Object Level -EQ 'Warning').Message | Should -Be @(1..40 | ForEach-Object { "warn $_" })
        $log.Attempt | Sort-Object -Unique | Should -Be 1
    }

    It 'fails a non-zero exit with its code and last stderr lines, retries after a growing backoff, and shows the next attempt time' {
        $trainer = New-FakeTrainer $dir 'oom' @'
echo "attempt $JOBQUEUE_ATTEMPT"
echo "RuntimeError: CUDA out of memory" >&2
exit 3
'@
        # The next attempt's time is visible on the job.
        $waiting = Submit-TrainingJob -Database $db -Type training -Command $trainer -MaxRetries 1 -Priority 9
        $first = Invoke-TestWorker @{ Database = $db; MaxJobs = 1; RetryBackoff = 30 }
        $first.JobId | Should -Be $waiting.JobId
        $first.Status | Should -Be 'Pending'
        $first.RetryCount | Should -Be 1
        $first.ExitCode | Should -Be 3
        $first.ErrorMessage | Should -BeLike 'Exited with code 3.*CUDA out of memory*'
        $first.NotBefore | Should -BeGreaterThan (Get-Date).AddSeconds(20)
        Stop-TrainingJob -Database $db -Id $waiting.JobId

        # Three attempts, each at least the backoff after the previous one, then failed for good.
        $job = Submit-TrainingJob -Database $db -Type training -Command $trainer -MaxRetries 2
        $done = @(Invoke-TestWorker @{ Database = $db; ExitWhenEmpty = $true; RetryBackoff = 0.5 })
        $done.Status | Should -Be 'Pending', 'Pending', 'Failed'
        $final = Get-TrainingJob -Database $db -Id $job.JobId
        $final.Status | Should -Be 'Failed'
        $final.RetryCount | Should -Be 2
        $final.ExitCode | Should -Be 3
        $final.ErrorMessage | Should -BeLike '*CUDA out of memory*'
        $log = Get-TrainingJobLog -Database $db -Id $job.JobId
        ($log | Where-Object Message -Like 'attempt *').Message | Should -Be 'attempt 1', 'attempt 2', 'attempt 3'
        $ends = 1..3 | ForEach-Object { ($log | Where-Object Attempt -EQ $_)[-1].Timestamp }
        $starts = 1..3 | ForEach-Object { ($log | Where-Object Attempt -EQ $_)[0].Timestamp }
        # Jitter is +-20%: the first retry waits at least 0.4 s, the second at least 0.8 s.
        ($starts[1] - $ends[0]).TotalSeconds | Should -BeGreaterOrEqual 0.39
        ($starts[2] - $ends[1]).TotalSeconds | Should -BeGreaterOrEqual 0.79
    }

    It 'fails a job that has no command and no handler, or whose program does not exist, with a clear message' {
        $orphan = Submit-TrainingJob -Database $db -Type export -MaxRetries 0
        $missing = Submit-TrainingJob -Database $db -Type training -Command 'no-such-trainer-xyz', '--epochs', '1' -MaxRetries 0
        $done = @(Invoke-TestWorker @{ Database = $db; ExitWhenEmpty = $true })
        $done.Status | Should -Be 'Failed', 'Failed'
        (Get-TrainingJob -Database $db -Id $orphan.JobId).ErrorMessage | Should -BeLike "*no -Command*no handler for its type 'export'*"
        (Get-TrainingJob -Database $db -Id $missing.JobId).ErrorMessage | Should -BeLike "*'no-such-trainer-xyz'*not found on the worker's PATH*"
        (Get-TrainingJobLog -Database $db -Id $missing.JobId -Level Error).Message | Should -BeLike '*not found*'
    }

    It 'runs script-block and command-vector handlers by job type' {
        $exporter = New-FakeTrainer $dir 'export' 'echo "exported job $JOBQUEUE_JOB_ID from $1"'
        $eval = Submit-TrainingJob -Database $db -Type evaluation -Config @{ dataset = 'test'; threshold = 0.3 }
        $export = Submit-TrainingJob -Database $db -Type export -Config @{}
        $broken = Submit-TrainingJob -Database $db -Type retraining -MaxRetries 0
        $native = Submit-TrainingJob -Database $db -Type training -MaxRetries 0
        $handlers = @{
            evaluation = { param($Job) "dataset=$($Job.Config.dataset) threshold=$($Job.Config.threshold)"; Write-Warning 'low recall'; Write-TrainingJobLog 'from the handler' -Level Error }
            export     = $exporter, 'arg1'
            retraining = { throw 'checkpoint missing' }
            '*'        = { sh -c 'exit 7' }
        }
        $done = @(Invoke-TestWorker @{ Database = $db; ExitWhenEmpty = $true; Handler = $handlers })
        $done.Count | Should -Be 4

        (Get-TrainingJob -Database $db -Id $eval.JobId).Status | Should -Be 'Completed'
        $log = Get-TrainingJobLog -Database $db -Id $eval.JobId
        ($log | Where-Object Level -EQ Info).Message | Should -Contain 'dataset=test threshold=0.3'
        ($log | Where-Object Level -EQ Warning).Message | Should -Contain 'low recall'
        ($log | Where-Object Level -EQ Error).Message | Should -Contain 'from the handler'

        (Get-TrainingJob -Database $db -Id $export.JobId).Status | Should -Be 'Completed'
        (Get-TrainingJobLog -Database $db -Id $export.JobId).Message | Should -Contain "exported job $($export.JobId) from arg1"

        $failed = Get-TrainingJob -Database $db -Id $broken.JobId
        $failed.Status | Should -Be 'Failed'
        $failed.ErrorMessage | Should -BeLike '*checkpoint missing*'

        $exit = Get-TrainingJob -Database $db -Id $native.JobId
        $exit.Status | Should -Be 'Failed'
        $exit.ExitCode | Should -Be 7
    }

    It 'stops the whole process tree when -Timeout passes and fails the job as timed out' {
        $trainer = New-FakeTrainer $dir 'slow' @'
echo $$ > "$1/trainer.pid"
sleep 300 &
echo $! > "$1/child.pid"
wait
'@
        $job = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir -Timeout 00:00:01 -MaxRetries 0
        $done = Invoke-TestWorker @{ Database = $db; ExitWhenEmpty = $true; GracePeriod = 1 }
        $done.Status | Should -Be 'Failed'
        $done.ErrorMessage | Should -BeLike 'Timed out after 00:00:01*'
        Test-ProcessAlive (Read-Pid "$dir/trainer.pid") | Should -BeFalse
        Test-ProcessAlive (Read-Pid "$dir/child.pid") | Should -BeFalse -Because 'the data-loader child goes with its trainer'
    }

    It 'cancels a running job within seconds: SIGTERM, then a kill of the whole tree when it is ignored; cancelled, not retried' {
        $trainer = New-FakeTrainer $dir 'stubborn' @'
trap '' TERM
echo $$ > "$1/trainer.pid"
sleep 300 &
echo $! > "$1/child.pid"
echo "training"
while :; do wait; done
'@
        $job = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir -MaxRetries 3
        $worker = Start-JobWorker -Database $db -WorkerId 'w-cancel' -GracePeriod 1 -AsJob
        try {
            $trainerPid = Read-Pid "$dir/trainer.pid"
            $childPid = Read-Pid "$dir/child.pid"
            Test-ProcessAlive $childPid | Should -BeTrue
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Stop-TrainingJob -Database $db -Id $job.JobId
            $cancelled = Wait-TrainingJob -Database $db -Id $job.JobId -Timeout 00:01:00
            Write-Host "    cancel of a trainer that ignores SIGTERM took $([int]$clock.Elapsed.TotalMilliseconds) ms (grace period 1 s)"
        } finally {
            Stop-Job $worker
            Remove-Job $worker
        }
        $cancelled.Status | Should -Be 'Cancelled'
        $cancelled.RetryCount | Should -Be 0
        Test-ProcessAlive $trainerPid | Should -BeFalse
        Test-ProcessAlive $childPid | Should -BeFalse
    }

    It 'gives each job its own GPUs: four devices shared by jobs wanting 1 and 2 never overlap' {
        $trainer = New-FakeTrainer $dir 'gpu' @'
start=$(date +%s%N)
sleep 0.6
echo "$start $(date +%s%N) $CUDA_VISIBLE_DEVICES" > "$1/gpu-$JOBQUEUE_JOB_ID.txt"
'@
        $jobs = 1..12 | ForEach-Object { Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir -GpuCount (1 + $_ % 2) }
        $worker = Start-JobWorker -Database $db -WorkerId 'w-gpu' -Gpu 0, 1, 2, 3 -MaxConcurrent 4 -ExitWhenEmpty -AsJob
        try {
            # Until the worker (a thread job) has registered, Get-JobWorker says there is no such worker.
            Wait-Until { (Get-JobWorker -Database $db -WorkerId 'w-gpu' -ErrorAction Ignore).CurrentJobIds.Count -gt 0 } -Because 'the worker to run jobs'
            $seen = Get-JobWorker -Database $db -WorkerId 'w-gpu'
            $seen.State | Should -Be 'Running'
            $seen.Gpus | Should -Be 0, 1, 2, 3
            $seen.HostName | Should -Be ([Environment]::MachineName)
            Wait-Job $worker -Timeout 120 | Should -Not -BeNullOrEmpty
        } finally {
            Stop-Job $worker
            Remove-Job $worker
        }

        $runs = foreach ($job in $jobs) {
            $start, $end, $devices = (Get-Content "$dir/gpu-$($job.JobId).txt" -Raw).Trim() -split ' '
            $stored = Get-TrainingJob -Database $db -Id $job.JobId
            $stored.Status | Should -Be 'Completed'
            $devices -split ',' | Should -HaveCount $job.GpuCount
            ($stored.Gpus -join ',') | Should -Be $devices -Because 'the job records the devices it ran on'
            [pscustomobject]@{ Id = $job.JobId; Start = [long]$start; End = [long]$end; Devices = $devices -split ',' }
        }
        $overlapping = 0
        foreach ($a in $runs) {
            foreach ($b in $runs) {
                if ($a.Id -ge $b.Id) { continue }
                $concurrent = $a.Start -lt $b.End -and $b.Start -lt $a.End
                if ($concurrent) { $overlapping++ }
                if ($concurrent) {
                    @($a.Devices | Where-Object { $_ -in $b.Devices }) | Should -BeNullOrEmpty -Because "jobs $($a.Id) and $($b.Id) ran at the same time"
                }
            }
        }
        $overlapping | Should -BeGreaterThan 0 -Because 'jobs shared the four devices at once'
        $final = Get-JobWorker -Database $db -WorkerId 'w-gpu'
        $final.State | Should -Be 'Stopped'
        $final.JobsCompleted | Should -Be 12
    }

    It 'lets a smaller job run while a job needing more GPUs than are free waits' {
        $trainer = New-FakeTrainer $dir 'gpu-order' @'
echo "$(date +%s%N) $CUDA_VISIBLE_DEVICES" > "$1/run-$JOBQUEUE_JOB_ID.txt"
sleep $2
'@
        $one = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir, 1.5 -GpuCount 1 -Priority 10
        $two = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir, 0.1 -GpuCount 2 -Priority 9
        $small = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir, 0.1 -GpuCount 1 -Priority 8
        $cpu = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir, 0.1 -Priority 1
        Invoke-TestWorker @{ Database = $db; Gpu = 0, 1; ExitWhenEmpty = $true } | Out-Null
        $read = { param($id) $t, $d = (Get-Content "$dir/run-$id.txt" -Raw).Trim() -split ' '; [pscustomobject]@{ Start = [long]$t; Devices = "$d" } }
        $r1 = & $read $one.JobId; $r2 = & $read $two.JobId; $r3 = & $read $small.JobId; $r4 = & $read $cpu.JobId
        $r3.Start | Should -BeLessThan $r2.Start -Because 'the 1-GPU job ran while the 2-GPU job waited'
        $r2.Devices | Should -Be '0,1'
        $r1.Devices | Should -Be '0'
        $r3.Devices | Should -Be '1'
        $r4.Devices | Should -Be '' -Because 'a job that asks for no GPU gets none'
        (Get-TrainingJob -Database $db -Id $cpu.JobId).Gpus | Should -BeNullOrEmpty
    }

    It 'stops gracefully (Stop-Job): signals running jobs, kills what ignores the signal after the grace period, returns them to pending without spending a retry' {
        $polite = New-FakeTrainer $dir 'polite' @'
trap 'echo "got SIGTERM, saving checkpoint"; exit 143' TERM
echo $$ > "$1/polite.pid"
while :; do sleep 0.1; done
'@
        $stubborn = New-FakeTrainer $dir 'ignores' @'
trap '' TERM
echo $$ > "$1/stubborn.pid"
sleep 300 &
echo $! > "$1/stubborn-child.pid"
while :; do wait; done
'@
        $a = Submit-TrainingJob -Database $db -Type training -Command $polite, $dir -MaxRetries 3
        $b = Submit-TrainingJob -Database $db -Type training -Command $stubborn, $dir -MaxRetries 3
        $worker = Start-JobWorker -Database $db -WorkerId 'w-graceful' -MaxConcurrent 2 -GracePeriod 1 -AsJob
        $politePid = Read-Pid "$dir/polite.pid"
        $stubbornPid = Read-Pid "$dir/stubborn.pid"
        $childPid = Read-Pid "$dir/stubborn-child.pid"
        Stop-Job $worker
        $worker.State | Should -Be 'Stopped'
        Remove-Job $worker

        foreach ($id in $a.JobId, $b.JobId) {
            $job = Get-TrainingJob -Database $db -Id $id
            $job.Status | Should -Be 'Pending'
            $job.RetryCount | Should -Be 0
            $job.WorkerId | Should -BeNullOrEmpty
            $job.ErrorMessage | Should -BeLike "Interrupted: worker 'w-graceful' stopped*"
        }
        (Get-TrainingJobLog -Database $db -Id $a.JobId).Message | Should -Contain 'got SIGTERM, saving checkpoint'
        foreach ($p in $politePid, $stubbornPid, $childPid) { Test-ProcessAlive $p | Should -BeFalse }
        (Get-JobWorker -Database $db -WorkerId 'w-graceful').State | Should -Be 'Stopped'
    }

    It 'stops gracefully on Ctrl+C (the pipeline is stopped): the running job returns to pending and the trainer is gone' {
        $trainer = New-FakeTrainer $dir 'ctrlc' @'
trap 'echo "saving checkpoint"; exit 143' TERM
echo $$ > "$1/ctrlc.pid"
while :; do sleep 0.1; done
'@
        $job = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir
        $state = [initialsessionstate]::CreateDefault2()
        $state.ImportPSModule((Join-Path $script:RepoRoot 'JobQueue.psd1'))
        $runspace = [runspacefactory]::CreateRunspace($state)
        $runspace.Open()
        $ps = [powershell]::Create($runspace)
        try {
            $null = $ps.AddCommand('Start-JobWorker').AddParameter('Database', $db).AddParameter('WorkerId', 'w-ctrlc').AddParameter('GracePeriod', 5)
            $async = $ps.BeginInvoke()
            $trainerPid = Read-Pid "$dir/ctrlc.pid"
            $ps.Stop()     # what Ctrl+C does: StopProcessing, then the worker drains before the pipeline ends
            $async.IsCompleted | Should -BeTrue
        } finally {
            $ps.Dispose()
            $runspace.Dispose()
        }
        $after = Get-TrainingJob -Database $db -Id $job.JobId
        $after.Status | Should -Be 'Pending'
        $after.RetryCount | Should -Be 0
        (Get-TrainingJobLog -Database $db -Id $job.JobId).Message | Should -Contain 'saving checkpoint'
        Test-ProcessAlive $trainerPid | Should -BeFalse
        (Get-JobWorker -Database $db -WorkerId 'w-ctrlc').State | Should -Be 'Stopped'
    }

    It 'passes a slot from each finished job straight to the next: -MaxJobs 3 of 5 run once each, in queue order, the rest stay pending' {
        $ids = foreach ($n in 1..5) { (Submit-TrainingJob -Database $db -Type evaluation -Config @{ n = $n } -Priority (10 - $n)).JobId }
        $done = @(Invoke-TestWorker @{ Database = $db; MaxJobs = 3; Handler = @{ evaluation = { param($Job) "ran $($Job.Config.n)" } } })

        $done.JobId | Should -Be $ids[0..2]
        foreach ($id in $ids[0..2]) {
            $job = Get-TrainingJob -Database $db -Id $id
            $job.Status | Should -Be 'Completed'
            $job.Attempt | Should -Be 1
            (Get-TrainingJobLog -Database $db -Id $id).Message | Should -Contain "ran $(10 - $job.Priority)"
        }
        foreach ($id in $ids[3..4]) {
            $job = Get-TrainingJob -Database $db -Id $id
            $job.Status | Should -Be 'Pending'
            $job.Attempt | Should -Be 0
        }
    }

    It 'stops in the middle of a drain of short jobs with none left running: each job completed once, or back to pending with no retry spent' {
        $ids = foreach ($n in 1..40) { (Submit-TrainingJob -Database $db -Type training -Command 'sleep', '0.05' -MaxRetries 3).JobId }
        $worker = Start-JobWorker -Database $db -WorkerId 'w-drain' -MaxConcurrent 2 -GracePeriod 5 -AsJob
        Wait-Until { (Get-JobQueueStatistics -Database $db).Completed -ge 6 } -TimeoutSeconds 60 -Because 'six jobs completed'
        Stop-Job $worker
        Remove-Job $worker -Force

        $jobs = @(Get-TrainingJob -Database $db -Id $ids)
        $jobs.Count | Should -Be 40
        @($jobs | Where-Object Status -EQ 'Running').JobId | Should -BeNullOrEmpty
        @($jobs | Where-Object Status -NotIn 'Completed', 'Pending').JobId | Should -BeNullOrEmpty
        $completed = @($jobs | Where-Object Status -EQ 'Completed')
        $completed.Count | Should -BeGreaterOrEqual 6
        $completed.Count | Should -BeLessThan 40
        $completed.Attempt | Sort-Object -Unique | Should -Be 1
        foreach ($job in $jobs | Where-Object Status -EQ 'Pending') {
            $job.RetryCount | Should -Be 0
            $job.WorkerId | Should -BeNullOrEmpty
        }
        (Get-JobWorker -Database $db -WorkerId 'w-drain').State | Should -Be 'Stopped'
    }

    It 'takes back, when restarted with the same id, the jobs its previous process still held' {
        # A claim by 'svc' that was never finished: its process died and systemd restarts it.
        $job = Submit-TrainingJob -Database $db -Type evaluation -MaxRetries 3
        $held = Receive-TrainingJob -Database $db -WorkerId svc -Lease 01:00:00
        $held.JobId | Should -Be $job.JobId
        $done = Invoke-TestWorker @{ Database = $db; WorkerId = 'svc'; ExitWhenEmpty = $true; Handler = @{ evaluation = { 'second attempt' } } }
        $done.Status | Should -Be 'Completed'
        $done.RetryCount | Should -Be 1
        $done.Attempt | Should -Be 2
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Level Warning).Message | Should -BeLike "Rescued: worker 'svc'*restarted*"
    }

    It 'cancels a running script-block job by stopping its handler' {
        $job = Submit-TrainingJob -Database $db -Type evaluation
        $worker = Start-JobWorker -Database $db -WorkerId 'w-sb-cancel' -GracePeriod 2 -Handler @{ evaluation = { 'started'; Start-Sleep -Seconds 300 } } -AsJob
        try {
            Wait-Until { (Get-TrainingJobLog -Database $db -Id $job.JobId).Message -contains 'started' } -Because 'the handler to start'
            Stop-TrainingJob -Database $db -Id $job.JobId
            $cancelled = Wait-TrainingJob -Database $db -Id $job.JobId -Timeout 00:01:00
        } finally {
            Stop-Job $worker
            Remove-Job $worker
        }
        $cancelled.Status | Should -Be 'Cancelled'
    }

    It 'completes worker ids from the workers table' {
        Invoke-TestWorker @{ Database = $db; WorkerId = 'gpu-node-7'; ExitWhenEmpty = $true } | Out-Null
        $line = "Stop-JobWorker -Database '$db' -WorkerId gpu-"
        $completions = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches
        $completions.CompletionText | Should -Contain 'gpu-node-7'
        ($completions | Where-Object CompletionText -EQ 'gpu-node-7').ToolTip | Should -BeLike '*stopped on*'
    }

    It 'refuses bad arguments with stable error ids and registers nothing' {
        { Start-JobWorker -Database $db -Gpu 0, 0 -ExitWhenEmpty } | Should -Throw -ErrorId 'InvalidGpu*'
        { Start-JobWorker -Database $db -Handler @{ training = 42 } -ExitWhenEmpty } | Should -Throw -ErrorId 'InvalidHandler*'
        { Start-JobWorker -Database $db -Handler @{ 'not a type!' = { 1 } } -ExitWhenEmpty } | Should -Throw -ErrorId 'InvalidJobType*'
        { Start-JobWorker -Database $db -LeaseDuration 0.5 -ExitWhenEmpty } | Should -Throw -ErrorId 'InvalidLeaseDuration*'
        { Start-JobWorker -Database $db -Type 'bad type' -ExitWhenEmpty } | Should -Throw -ErrorId 'InvalidJobType*'
        $err = $null
        try { Start-JobWorker -Database $db -Gpu 1, 1 } catch { $err = $_ }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-JobWorker -Database $db | Should -BeNullOrEmpty
    }

    It 'refuses a worker id that a running worker holds' {
        $worker = Start-JobWorker -Database $db -WorkerId 'w-taken' -AsJob
        try {
            Wait-Until { (Get-JobWorker -Database $db -WorkerId 'w-taken' -ErrorAction Ignore).State -eq 'Running' } -Because 'the first worker to register'
            { Start-JobWorker -Database $db -WorkerId 'w-taken' -ExitWhenEmpty } | Should -Throw -ErrorId 'WorkerIdInUse*'
        } finally {
            Stop-Job $worker
            Remove-Job $worker
        }
    }
}
