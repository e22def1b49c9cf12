# Managing jobs: Stop-, Restart-, Remove- and Wait-TrainingJob, pipeline binding, -WhatIf and -Confirm.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')

    function New-FailedJob([string] $Database, [string] $Message = 'boom') {
        $job = Submit-TrainingJob -Database $Database -Type training -MaxRetries 0
        Receive-TrainingJob -Database $Database -WorkerId w | Complete-TrainingJob -Failed -ErrorMessage $Message
        Get-TrainingJob -Database $Database -Id $job.JobId
    }
}

Describe 'Stop-TrainingJob (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach { $db = New-TestDatabase -Backend $backend }

    It 'cancels a pending job at once; no worker claims it' {
        $job = Submit-TrainingJob -Database $db -Type training
        Stop-TrainingJob -Database $db -Id $job.JobId | Should -BeNullOrEmpty
        $stopped = Get-TrainingJob -Database $db -Id $job.JobId
        $stopped.Status | Should -Be 'Cancelled'
        $stopped.CompletedAt | Should -Not -BeNullOrEmpty
        Receive-TrainingJob -Database $db -WorkerId w | Should -BeNullOrEmpty
    }

    It 'records a cancel request for a running job, which its worker then ends as cancelled, not retried' {
        Submit-TrainingJob -Database $db -Type training -MaxRetries 3 | Out-Null
        $claimed = Receive-TrainingJob -Database $db -WorkerId w
        $asked = Stop-TrainingJob -Database $db -Id $claimed.JobId -PassThru
        $asked.Status | Should -Be 'Running'
        $asked.CancelRequested | Should -BeTrue
        (Get-TrainingJob -Database $db -Id $claimed.JobId | Format-List | Out-String) | Should -Match 'running \(cancel requested\)'
        # The worker notices, stops the process, and reports it as failed: the request wins.
        $ended = $claimed | Complete-TrainingJob -Failed -ErrorMessage 'terminated' -PassThru
        $ended.Status | Should -Be 'Cancelled'
        $ended.RetryCount | Should -Be 0
    }

    It 'refuses a finished job with JobAlreadyFinished and changes nothing' {
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $done = Receive-TrainingJob -Database $db -WorkerId w | Complete-TrainingJob -PassThru
        $before = Get-QueueSnapshot $db
        $err = Get-ThrownError { Stop-TrainingJob -Database $db -Id $done.JobId -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobAlreadyFinished,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.TargetObject | Should -Be $done.JobId
        Get-QueueSnapshot $db | Should -Be $before
    }

    It 'cancels piped jobs, and emits them with -PassThru' {
        $jobs = 1..3 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type evaluation
        $stopped = Get-TrainingJob -Database $db -Status Pending | Stop-TrainingJob -PassThru
        $stopped.Count | Should -Be 3
        (Get-TrainingJob -Database $db -Id $jobs.JobId).Status | Sort-Object -Unique | Should -Be 'Cancelled'
    }

    It 'changes nothing under -WhatIf' {
        $job = Submit-TrainingJob -Database $db -Type training
        $before = Get-QueueSnapshot $db
        Get-TrainingJob -Database $db -Id $job.JobId | Stop-TrainingJob -WhatIf
        Get-QueueSnapshot $db | Should -Be $before
    }
}

Describe 'Restart-TrainingJob (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach { $db = New-TestDatabase -Backend $backend }

    It 'puts a failed job back to pending, ready to claim, without its old error' {
        $failed = New-FailedJob $db 'OOM'
        $failed.Status | Should -Be 'Failed'
        $restarted = Restart-TrainingJob -Database $db -Id $failed.JobId -PassThru
        $restarted.Status | Should -Be 'Pending'
        $restarted.ErrorMessage | Should -BeNullOrEmpty
        $restarted.CompletedAt | Should -BeNullOrEmpty
        (Receive-TrainingJob -Database $db -WorkerId w).JobId | Should -Be $failed.JobId
    }

    It 'puts a cancelled job back to pending' {
        $job = Submit-TrainingJob -Database $db -Type training
        Stop-TrainingJob -Database $db -Id $job.JobId
        Restart-TrainingJob -Database $db -Id $job.JobId
        (Get-TrainingJob -Database $db -Id $job.JobId).Status | Should -Be 'Pending'
    }

    It 'restarts what Get-TrainingJob -Status Failed pipes in, binding by property name' {
        $failed = 1..3 | ForEach-Object { New-FailedJob $db "error $_" }
        $completed = Submit-TrainingJob -Database $db -Type training
        Receive-TrainingJob -Database $db -WorkerId w | Complete-TrainingJob
        Get-TrainingJob -Database $db -Status Failed | Restart-TrainingJob
        (Get-TrainingJob -Database $db -Id $failed.JobId).Status | Sort-Object -Unique | Should -Be 'Pending'
        (Get-TrainingJob -Database $db -Id $completed.JobId).Status | Should -Be 'Completed'
        Get-TrainingJob -Database $db -Status Failed | Should -BeNullOrEmpty
    }

    It 'refuses a job that is <Case> with JobNotRestartable and changes nothing' -ForEach @(
        @{ Case = 'pending' }, @{ Case = 'running' }, @{ Case = 'completed' }
    ) {
        $job = Submit-TrainingJob -Database $db -Type training
        if ($Case -ne 'pending') { $claimed = Receive-TrainingJob -Database $db -WorkerId w }
        if ($Case -eq 'completed') { $claimed | Complete-TrainingJob }
        $before = Get-QueueSnapshot $db
        $err = Get-ThrownError { Restart-TrainingJob -Database $db -Id $job.JobId -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobNotRestartable,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        Get-QueueSnapshot $db | Should -Be $before
    }

    It 'changes nothing under -WhatIf' {
        $failed = New-FailedJob $db
        $before = Get-QueueSnapshot $db
        Get-TrainingJob -Database $db -Status Failed | Restart-TrainingJob -WhatIf
        Get-QueueSnapshot $db | Should -Be $before
        (Get-TrainingJob -Database $db -Id $failed.JobId).Status | Should -Be 'Failed'
    }
}

Describe 'Piped jobs go back to their own queue (<_>)' -ForEach (Get-TestBackend) {
    It 'uses the Database of the piped job, not the default queue' {
        $db = New-TestDatabase -Backend $_
        $other = New-TestDatabase -Backend $_
        $failed = New-FailedJob $db
        $saved = $env:JOBQUEUE_DATABASE
        $env:JOBQUEUE_DATABASE = $other
        try {
            Get-TrainingJob -Database $db -Status Failed | Restart-TrainingJob
            Get-TrainingJob -Database $db -Id $failed.JobId | Stop-TrainingJob
        }
        finally { $env:JOBQUEUE_DATABASE = $saved }
        (Get-TrainingJob -Database $db -Id $failed.JobId).Status | Should -Be 'Cancelled'
        @(Get-TrainingJob -Database $other).Count | Should -Be 0
    }
}

Describe 'Remove-TrainingJob (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach { $db = New-TestDatabase -Backend $backend }

    It 'is ConfirmImpact High' {
        [Management.Automation.CommandMetadata]::new((Get-Command Remove-TrainingJob)).ConfirmImpact | Should -Be 'High'
        (Get-Command Remove-TrainingJob).Parameters.Keys | Should -Contain 'WhatIf'
    }

    It 'removes a job and its logs with -Confirm:$false' {
        $keep = Submit-TrainingJob -Database $db -Type training
        $job = Submit-TrainingJob -Database $db -Type training
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'to be removed'
        Write-TrainingJobLog -Database $db -Id $keep.JobId -Message 'kept'
        Remove-TrainingJob -Database $db -Id $job.JobId -Confirm:$false
        Get-TrainingJob -Database $db -Id $job.JobId -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err = Get-ThrownError { Get-TrainingJobLog -Database $db -Id $job.JobId -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobNotFound,*'
        (Get-TrainingJobLog -Database $db -Id $keep.JobId).Message | Should -Be 'kept'
    }

    It 'removes piped jobs' {
        1..4 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type export | Stop-TrainingJob
        Get-TrainingJob -Database $db -Status Cancelled | Remove-TrainingJob -Confirm:$false
        Get-TrainingJob -Database $db | Should -BeNullOrEmpty
    }

    It 'refuses a running job with JobIsRunning and changes nothing' {
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $claimed = Receive-TrainingJob -Database $db -WorkerId w
        $before = Get-QueueSnapshot $db
        $err = Get-ThrownError { Remove-TrainingJob -Database $db -Id $claimed.JobId -Confirm:$false -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobIsRunning,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        Get-QueueSnapshot $db | Should -Be $before
    }

    It 'removes finished jobs by -Status and -OlderThan, leaving the rest' {
        $done = Submit-TrainingJob -Database $db -Type training
        Receive-TrainingJob -Database $db -WorkerId w | Complete-TrainingJob
        $failed = New-FailedJob $db
        $cancelled = Submit-TrainingJob -Database $db -Type training | Stop-TrainingJob -PassThru
        $pending = Submit-TrainingJob -Database $db -Type training
        Write-TrainingJobLog -Database $db -Id $done.JobId -Message 'done'

        # Nothing ended more than a day ago.
        Remove-TrainingJob -Database $db -Status Completed, Failed, Cancelled -OlderThan 1.00:00:00 -Confirm:$false
        @(Get-TrainingJob -Database $db).Count | Should -Be 4

        Remove-TrainingJob -Database $db -Status Completed, Failed -OlderThan 0 -Confirm:$false
        (Get-TrainingJob -Database $db).JobId | Should -Be @($pending.JobId, $cancelled.JobId)
        Get-TrainingJobLog -Database $db -Id $done.JobId -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'refuses to prune pending or running jobs by age' {
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $before = Get-QueueSnapshot $db
        $err = Get-ThrownError { Remove-TrainingJob -Database $db -Status Pending -OlderThan 0 -Confirm:$false }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-QueueSnapshot $db | Should -Be $before
    }

    It 'changes nothing under -WhatIf' {
        $job = Submit-TrainingJob -Database $db -Type training | Stop-TrainingJob -PassThru
        $before = Get-QueueSnapshot $db
        Remove-TrainingJob -Database $db -Id $job.JobId -WhatIf
        Remove-TrainingJob -Database $db -Status Cancelled -OlderThan 0 -WhatIf
        Get-QueueSnapshot $db | Should -Be $before
    }

    It 'asks for confirmation by default: a non-interactive session removes nothing' {
        $job = Submit-TrainingJob -Database $db -Type training
        $r = Invoke-Pwsh "Remove-TrainingJob -Database '$db' -Id $($job.JobId)"
        $r.ExitCode | Should -Not -Be 0
        $r.Error | Should -Match 'NonInteractive'
        (Get-TrainingJob -Database $db -Id $job.JobId).Status | Should -Be 'Pending'
    }
}

Describe 'Wait-TrainingJob (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach { $db = New-TestDatabase -Backend $backend }

    It 'returns a finished job at once' {
        $job = Submit-TrainingJob -Database $db -Type training | Stop-TrainingJob -PassThru
        $waited = Wait-TrainingJob -Database $db -Id $job.JobId -Timeout 00:01:00
        $waited.JobId | Should -Be $job.JobId
        $waited.Status | Should -Be 'Cancelled'
    }

    It 'waits until another process finishes the job' {
        $job = Submit-TrainingJob -Database $db -Type training
        $worker = Start-Pwsh "Start-Sleep -Milliseconds 500; Receive-TrainingJob -Database '$db' -WorkerId other | Complete-TrainingJob"
        try {
            $waited = Wait-TrainingJob -Database $db -Id $job.JobId -Timeout 00:02:00 -PollInterval 00:00:00.100
            $waited.Status | Should -Be 'Completed'
            $waited.WorkerId | Should -Be 'other'
            $worker.WaitForExit(60000) | Should -BeTrue
            $worker.ExitCode | Should -Be 0
        }
        finally { if (-not $worker.HasExited) { $worker.Kill($true) } }
    }

    It 'gives up after -Timeout with a WaitTimeout error, the job untouched' {
        $job = Submit-TrainingJob -Database $db -Type training
        $waited = Wait-TrainingJob -Database $db -Id $job.JobId -Timeout 00:00:00.500 -ErrorAction SilentlyContinue -ErrorVariable errors
        $waited | Should -BeNullOrEmpty
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'WaitTimeout,*'
        $errors[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        (Get-TrainingJob -Database $db -Id $job.JobId).Status | Should -Be 'Pending'
    }

    It 'returns the first job to finish with -Any' {
        $open = Submit-TrainingJob -Database $db -Type training
        $done = Submit-TrainingJob -Database $db -Type training | Stop-TrainingJob -PassThru
        $waited = Wait-TrainingJob -Database $db -Id $open.JobId, $done.JobId -Any -Timeout 00:01:00
        @($waited).Count | Should -Be 1
        $waited.JobId | Should -Be $done.JobId
    }

    It 'waits for every piped job' {
        $jobs = 1..3 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training | Stop-TrainingJob -PassThru
        $waited = $jobs | Wait-TrainingJob -Timeout 00:01:00
        $waited.JobId | Sort-Object | Should -Be ($jobs.JobId | Sort-Object)
    }

    It 'reports an unknown id as JobNotFound and still waits for the others' {
        $job = Submit-TrainingJob -Database $db -Type training | Stop-TrainingJob -PassThru
        $waited = Wait-TrainingJob -Database $db -Id 424242, $job.JobId -Timeout 00:01:00 -ErrorAction SilentlyContinue -ErrorVariable errors
        $waited.JobId | Should -Be $job.JobId
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'JobNotFound,*'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'Remove-TrainingJob in the SQLite file (<_>)' -ForEach (Get-SqliteBackend) {
    It 'deletes the job''s rows from jobs and job_logs (checked with sqlite3)' {
        $db = New-TestDatabase -Backend $_
        $job = Submit-TrainingJob -Database $db -Type training
        $keep = Submit-TrainingJob -Database $db -Type training
        1..3 | ForEach-Object { Write-TrainingJobLog -Database $db -Id $job.JobId -Message "line $_" }
        Write-TrainingJobLog -Database $db -Id $keep.JobId -Message 'kept'
        Invoke-Sqlite $db "SELECT count(*) FROM job_logs WHERE job_id = $($job.JobId)" | Should -Be '3'
        Remove-TrainingJob -Database $db -Id $job.JobId -Confirm:$false
        Invoke-Sqlite $db "SELECT count(*) FROM jobs WHERE job_id = $($job.JobId)" | Should -Be '0'
        Invoke-Sqlite $db "SELECT count(*) FROM job_logs WHERE job_id = $($job.JobId)" | Should -Be '0'
        Invoke-Sqlite $db 'SELECT count(*) FROM job_logs' | Should -Be '1'
    }
}
