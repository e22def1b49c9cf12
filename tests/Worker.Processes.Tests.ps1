# Workers in other processes: a worker killed with SIGKILL mid-job, Stop-JobWorker and SIGTERM
# from outside, pickup latency and idle CPU, and ten workers draining 2,000 jobs.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Worker.Helpers.ps1')

    function Start-WorkerProcess {
        # A worker in its own pwsh; its console output goes to a file for the failure message.
        # -Quiet: no verbose messages and no formatted jobs (a drain of short jobs would spend its time formatting).
        param([string] $Database, [string] $Arguments, [string] $Log, [switch] $Quiet)
        $script = if ($Quiet) { "Start-JobWorker -Database '$Database' $Arguments | Out-Null" } else { "Start-JobWorker -Database '$Database' $Arguments -Verbose" }
        Start-Pwsh -Script $script -OutputPath $Log
    }

    function Wait-WorkerRunning {
        param([string] $Database, [string] $WorkerId, [Diagnostics.Process] $Process, [string] $Log)
        Wait-Until {
            if ($Process.HasExited) { throw "Worker $WorkerId exited early: $(Get-Content $Log -Raw -ErrorAction Ignore)" }
            (Get-JobWorker -Database $Database -WorkerId $WorkerId -ErrorAction Ignore).State -eq 'Running'
        } -TimeoutSeconds 90 -Because "worker $WorkerId to start"
    }
}

Describe 'Workers in other processes on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
    }

    BeforeEach {
        $db = New-TestDatabase -Backend $backend
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory $dir | Out-Null
    }

    It 'rescues the job of a worker killed with SIGKILL: the orphaned trainer is stopped and the job completes exactly once elsewhere' {
        $trainer = New-FakeTrainer $dir 'long' @'
if [ "$JOBQUEUE_ATTEMPT" = "1" ]; then
  echo $$ > "$1/orphan.pid"
  sleep 300 &
  echo $! > "$1/orphan-child.pid"
  wait
else
  echo "attempt $JOBQUEUE_ATTEMPT by $JOBQUEUE_WORKER_ID" >> "$1/completions.txt"
fi
'@
        $job = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir -MaxRetries 3
        $log = Join-Path $dir 'doomed.log'
        $doomed = Start-WorkerProcess $db "-WorkerId doomed -LeaseDuration 2" $log
        $orphan = Read-Pid "$dir/orphan.pid" -TimeoutSeconds 90
        $orphanChild = Read-Pid "$dir/orphan-child.pid"
        $doomed.Kill()          # SIGKILL: no cleanup of any kind
        $doomed.WaitForExit()
        Test-ProcessAlive $orphan | Should -BeTrue -Because 'the trainer outlives its killed worker'
        (Get-TrainingJob -Database $db -Id $job.JobId).Status | Should -Be 'Running'
        Wait-Until { (Get-JobWorker -Database $db -WorkerId doomed).State -eq 'Lost' } -TimeoutSeconds 30 -Because 'the dead worker to show as lost'

        $done = @(Invoke-TestWorker @{ Database = $db; WorkerId = 'rescuer'; LeaseDuration = 2; MaxJobs = 1 } -TimeoutSeconds 90)

        $done.Count | Should -Be 1
        $done[0].Status | Should -Be 'Completed'
        $final = Get-TrainingJob -Database $db -Id $job.JobId
        $final.Status | Should -Be 'Completed'
        $final.RetryCount | Should -Be 1
        $final.Attempt | Should -Be 2
        $final.WorkerId | Should -Be 'rescuer'
        Get-Content "$dir/completions.txt" | Should -Be 'attempt 2 by rescuer'
        Test-ProcessAlive $orphan | Should -BeFalse
        Test-ProcessAlive $orphanChild | Should -BeFalse
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Level Warning).Message | Should -BeLike "Rescued: worker 'doomed'*stopped heartbeating*leftover process*back to the queue (retry 1/3)*"
    }

    It 'lets a worker restarted at once under the same id (systemd Restart=always) take over from its killed process' {
        $trainer = New-HangOnceTrainer $dir 'restart' 'first.pid'
        $job = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir -MaxRetries 3
        $first = Start-WorkerProcess $db "-WorkerId svc-1" (Join-Path $dir 'first.log')
        $orphan = Read-Pid "$dir/first.pid" -TimeoutSeconds 90
        $first.Kill()
        $first.WaitForExit()

        # Well within the 60 s lease of the dead process: no WorkerIdInUse, and its job is taken back at once.
        $done = @(Invoke-TestWorker @{ Database = $db; WorkerId = 'svc-1'; MaxJobs = 1 } -TimeoutSeconds 60)
        $done.Status | Should -Be 'Completed'
        $done.RetryCount | Should -Be 1
        Get-Content "$dir/completions.txt" | Should -Be 'attempt 2'
        Test-ProcessAlive $orphan | Should -BeFalse
        (Get-JobWorker -Database $db -WorkerId 'svc-1').ProcessId | Should -Be $PID
    }

    It 'drains on SIGTERM (systemd stop) and exits cleanly' {
        $log = Join-Path $dir 'service.log'
        $service = Start-WorkerProcess $db "-WorkerId service -Handler @{ evaluation = { Start-Sleep 300 } } -GracePeriod 2" $log
        $job = Submit-TrainingJob -Database $db -Type evaluation
        Wait-Until { (Get-TrainingJob -Database $db -Id $job.JobId).Status -eq 'Running' } -TimeoutSeconds 90 -Because 'the job to start'
        Send-Signal -Id $service.Id -Signal TERM
        $service.WaitForExit(60000) | Should -BeTrue
        $service.ExitCode | Should -Be 0 -Because (Get-Content $log -Raw)
        (Get-JobWorker -Database $db -WorkerId service).State | Should -Be 'Stopped'
        $after = Get-TrainingJob -Database $db -Id $job.JobId
        $after.Status | Should -Be 'Pending'
        $after.RetryCount | Should -Be 0
    }

    It 'answers Get-JobWorker and Stop-JobWorker for unknown ids with WorkerNotFound' {
        Get-JobWorker -Database $db -WorkerId 'nobody' -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'WorkerNotFound*'
        $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Get-JobWorker -Database $db -WorkerId 'nob*' -ErrorVariable e2 | Should -BeNullOrEmpty
        $e2 | Should -BeNullOrEmpty
        Stop-JobWorker -Database $db -WorkerId 'nobody' -ErrorVariable e3 -ErrorAction SilentlyContinue
        $e3[0].FullyQualifiedErrorId | Should -BeLike 'WorkerNotFound*'
    }

    It 'picks up new jobs fast while idle with next to no CPU (measured, printed), and drains on Stop-JobWorker from this process' {
        $probe = New-FakeTrainer $dir 'probe' 'date +%s%N > "$1/started-$JOBQUEUE_JOB_ID.txt"'
        $sleeper = New-FakeTrainer $dir 'sleeper' @'
trap 'echo "stopping on SIGTERM"; exit 143' TERM
echo $$ > "$1/sleeper.pid"
while :; do sleep 0.1; done
'@
        $log = Join-Path $dir 'remote.log'
        $remote = Start-WorkerProcess $db "-WorkerId remote -GracePeriod 5" $log
        try {
            Wait-WorkerRunning $db 'remote' $remote $log
            Start-Sleep -Seconds 3    # let start-up work (JIT, first heartbeat) settle
            $cpu0 = $remote.TotalProcessorTime
            $clock = [Diagnostics.Stopwatch]::StartNew()
            Start-Sleep -Seconds 10
            $remote.Refresh()
            $idleCpu = ($remote.TotalProcessorTime - $cpu0).TotalMilliseconds / $clock.Elapsed.TotalMilliseconds * 100

            $probes = foreach ($i in 1..20) {
                Submit-TrainingJob -Database $db -Type training -Command $probe, $dir
                Start-Sleep -Milliseconds 200
            }
            $finished = $probes | Wait-TrainingJob -Database $db -Timeout 00:01:00
            $finished.Status | Sort-Object -Unique | Should -Be 'Completed'
            $claim = foreach ($j in $finished) { ($j.StartedAt - $j.CreatedAt).TotalMilliseconds }
            $start = foreach ($j in $finished) {
                $ns = [long](Get-Content "$dir/started-$($j.JobId).txt" -Raw).Trim()
                $ns / 1e6 - ([DateTimeOffset]$j.CreatedAt).ToUnixTimeMilliseconds()
            }
            Write-Host ("    idle worker process CPU over {0:N1} s: {1:N2}% of one core (default -PollInterval 5 s, -LeaseDuration 60 s)" -f $clock.Elapsed.TotalSeconds, $idleCpu)
            Write-Host ("    submit -> claimed: p50 {0:N0} ms, p95 {1:N0} ms, max {2:N0} ms (20 jobs, 200 ms apart, from another process)" -f (Get-Percentile $claim 50), (Get-Percentile $claim 95), ($claim | Measure-Object -Maximum).Maximum)
            Write-Host ("    submit -> trainer process running: p50 {0:N0} ms, p95 {1:N0} ms, max {2:N0} ms" -f (Get-Percentile $start 50), (Get-Percentile $start 95), ($start | Measure-Object -Maximum).Maximum)

            # Now a long job, and Stop-JobWorker from this process.
            $job = Submit-TrainingJob -Database $db -Type training -Command $sleeper, $dir -MaxRetries 3
            $trainerPid = Read-Pid "$dir/sleeper.pid"
            $seen = Get-JobWorker -Database $db -WorkerId remote
            $seen.State | Should -Be 'Running'
            $seen.ProcessId | Should -Be $remote.Id
            $seen.CurrentJobIds | Should -Be $job.JobId
            $seen.JobsCompleted | Should -BeGreaterThan 0

            $stopped = Stop-JobWorker -Database $db -WorkerId remote -Wait -Timeout 90 -PassThru

            $stopped.State | Should -Be 'Stopped'
            $remote.WaitForExit(30000) | Should -BeTrue
            $remote.ExitCode | Should -Be 0 -Because (Get-Content $log -Raw)
            $after = Get-TrainingJob -Database $db -Id $job.JobId
            $after.Status | Should -Be 'Pending'
            $after.RetryCount | Should -Be 0
            (Get-TrainingJobLog -Database $db -Id $job.JobId).Message | Should -Contain 'stopping on SIGTERM'
            Test-ProcessAlive $trainerPid | Should -BeFalse
        } finally {
            if (-not $remote.HasExited) { $remote.Kill() }
        }
    }

    It 'runs every one of 2,000 jobs exactly once with 10 worker processes' {
        $count = 2000
        $ids = (1..$count | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type evaluation).JobId
        $handler = "@{ evaluation = { param(`$Job) [IO.File]::AppendAllText('$dir/ran-' + `$Job.WorkerId + '.txt', `"`$(`$Job.JobId)``n`") } }"
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $workers = foreach ($w in 1..10) {
            Start-WorkerProcess $db "-WorkerId drain-$w -ExitWhenEmpty -Handler $handler" (Join-Path $dir "drain-$w.log") -Quiet
        }
        foreach ($w in $workers) {
            if (-not $w.WaitForExit(240000)) { $w.Kill(); throw 'A drain worker did not finish within 240 s.' }
        }
        $wall = $clock.Elapsed.TotalSeconds
        foreach ($i in 0..9) { $workers[$i].ExitCode | Should -Be 0 -Because (Get-Content (Join-Path $dir "drain-$($i + 1).log") -Raw) }

        $ran = Get-ChildItem $dir -Filter 'ran-*.txt' | Get-Content
        $ran.Count | Should -Be $count -Because 'no job ran twice'
        ($ran | Sort-Object -Unique).Count | Should -Be $count -Because 'every job ran'
        $stats = Get-JobQueueStatistics -Database $db
        $stats.Completed | Should -Be $count
        $stats.Pending + $stats.Running + $stats.Failed | Should -Be 0
        $workerRows = Get-JobWorker -Database $db -WorkerId 'drain-*'
        ($workerRows | Measure-Object JobsCompleted -Sum).Sum | Should -Be $count
        $busy = @($workerRows | Where-Object JobsCompleted -GT 0).Count
        $jobs = Get-TrainingJob -Database $db -Status Completed
        $span = (($jobs.CompletedAt | Measure-Object -Maximum).Maximum - ($jobs.StartedAt | Measure-Object -Minimum).Minimum).TotalSeconds
        Write-Host ("    drained {0} jobs with 10 worker processes ({1} of them got jobs) on {2} cores: {3:N0} jobs/s from first claim to last completion ({4:N1} s); {5:N1} s wall including pwsh start" -f $count, $busy, [Environment]::ProcessorCount, ($count / $span), $span, $wall)
    }
}

Describe 'Orphans of attempts rescued from another host (queue edited by hand) on <_>' -ForEach (Get-TestBackend) {
    It 'stops, on the host where they run, the processes of an attempt that another host rescued' {
        $db = New-TestDatabase -Backend $_
        $dir = Join-Path $TestDrive 'cross-host'
        New-Item -ItemType Directory $dir | Out-Null
        $trainer = New-HangOnceTrainer $dir 'cross' 'cross.pid'
        $job = Submit-TrainingJob -Database $db -Type training -Command $trainer, $dir -MaxRetries 3
        $first = Start-WorkerProcess $db "-WorkerId far-away -LeaseDuration 2" (Join-Path $dir 'far.log')
        $orphan = Read-Pid "$dir/cross.pid" -TimeoutSeconds 90
        $first.Kill()
        $first.WaitForExit()
        # As if the attempt had run on another host: a rescue here must not look for its processes...
        Invoke-QueueSql $db "UPDATE jobs SET host_name = 'another-host' WHERE job_id = $($job.JobId)" | Out-Null
        Wait-Until { (Get-JobWorker -Database $db -WorkerId far-away).State -eq 'Lost' } -TimeoutSeconds 30 -Because 'the lease to expire'

        $done = @(Invoke-TestWorker @{ Database = $db; WorkerId = 'local'; LeaseDuration = 2; MaxJobs = 1 } -TimeoutSeconds 90)

        # ...but the sweep of this host finds the process of an attempt that no longer holds its job.
        $done.Status | Should -Be 'Completed'
        Get-Content "$dir/completions.txt" | Should -Be 'attempt 2'
        Test-ProcessAlive $orphan | Should -BeFalse
    }
}
