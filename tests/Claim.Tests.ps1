# A worker loop of one's own: Receive-TrainingJob claims, Complete-TrainingJob records the outcome.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

Describe 'Receive-TrainingJob (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach { $db = New-TestDatabase -Backend $backend }

    It 'emits nothing when no job is pending' {
        Receive-TrainingJob -Database $db -WorkerId 'worker-01' | Should -BeNullOrEmpty
    }

    It 'claims the job as running, for this worker, on its first attempt' {
        $job = Submit-TrainingJob -Database $db -Type training -Config @{ epochs = 1 }
        $before = Get-Date
        $claimed = Receive-TrainingJob -Database $db -WorkerId 'worker-01'
        $claimed.JobId | Should -Be $job.JobId
        $claimed.Status | Should -Be 'Running'
        $claimed.WorkerId | Should -Be 'worker-01'
        $claimed.Attempt | Should -Be 1
        $claimed.StartedAt | Should -BeGreaterOrEqual $before.AddSeconds(-2)
        $claimed.Config.epochs | Should -Be 1
        $stored = Get-TrainingJob -Database $db -Id $job.JobId
        $stored.Status | Should -Be 'Running'
        $stored.WorkerId | Should -Be 'worker-01'
        $stored.StartedAt | Should -Be $claimed.StartedAt
    }

    It 'names the worker after the host and process when -WorkerId is omitted' {
        Submit-TrainingJob -Database $db -Type training | Out-Null
        (Receive-TrainingJob -Database $db).WorkerId | Should -Be ('{0}-{1}' -f [Environment]::MachineName.ToLowerInvariant(), $PID)
    }

    It 'holds the claim for -Lease' {
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $claimed = Receive-TrainingJob -Database $db -WorkerId w -Lease 00:05:00
        ($claimed.LeaseExpiresAt - $claimed.StartedAt) | Should -Be ([TimeSpan]::FromMinutes(5))
    }

    It 'claims each job once: a second claim gets the next job, then nothing' {
        $a = Submit-TrainingJob -Database $db -Type training
        $b = Submit-TrainingJob -Database $db -Type training
        (Receive-TrainingJob -Database $db -WorkerId w1).JobId | Should -Be $a.JobId
        (Receive-TrainingJob -Database $db -WorkerId w2).JobId | Should -Be $b.JobId
        Receive-TrainingJob -Database $db -WorkerId w3 | Should -BeNullOrEmpty
    }

    It 'claims the highest priority first, then the oldest' {
        $low = Submit-TrainingJob -Database $db -Type training -Priority 2
        $mid1 = Submit-TrainingJob -Database $db -Type training -Priority 5
        $high = Submit-TrainingJob -Database $db -Type training -Priority 9
        $mid2 = Submit-TrainingJob -Database $db -Type training -Priority 5
        $top = Submit-TrainingJob -Database $db -Type training -Priority 10
        $order = 1..5 | ForEach-Object { (Receive-TrainingJob -Database $db -WorkerId w).JobId }
        $order | Should -Be @($top, $high, $mid1, $mid2, $low).JobId
    }

    It 'claims only the types given with -Type' {
        $train = Submit-TrainingJob -Database $db -Type training -Priority 10
        $eval = Submit-TrainingJob -Database $db -Type evaluation -Priority 1
        $export = Submit-TrainingJob -Database $db -Type export -Priority 1
        (Receive-TrainingJob -Database $db -WorkerId w -Type evaluation).JobId | Should -Be $eval.JobId
        Receive-TrainingJob -Database $db -WorkerId w -Type evaluation | Should -BeNullOrEmpty
        (Receive-TrainingJob -Database $db -WorkerId w -Type export, retraining).JobId | Should -Be $export.JobId
        (Receive-TrainingJob -Database $db -WorkerId w).JobId | Should -Be $train.JobId
    }

    It 'leaves a job alone until its -NotBefore time' {
        $later = Submit-TrainingJob -Database $db -Type training -Priority 10 -NotBefore (Get-Date).AddHours(1)
        $now = Submit-TrainingJob -Database $db -Type training -Priority 1 -NotBefore (Get-Date).AddMinutes(-1)
        (Receive-TrainingJob -Database $db -WorkerId w).JobId | Should -Be $now.JobId
        Receive-TrainingJob -Database $db -WorkerId w | Should -BeNullOrEmpty
        (Get-TrainingJob -Database $db -Id $later.JobId).Status | Should -Be 'Pending'
    }

    It 'claims nothing under -WhatIf' {
        $job = Submit-TrainingJob -Database $db -Type training
        $before = Get-QueueSnapshot $db
        Receive-TrainingJob -Database $db -WorkerId w -WhatIf | Should -BeNullOrEmpty
        Get-QueueSnapshot $db | Should -Be $before
        (Get-TrainingJob -Database $db -Id $job.JobId).Status | Should -Be 'Pending'
    }
}

Describe 'Complete-TrainingJob (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach { $db = New-TestDatabase -Backend $backend }

    It 'marks a claimed job completed' {
        $job = Submit-TrainingJob -Database $db -Type training
        $claimed = Receive-TrainingJob -Database $db -WorkerId 'worker-01'
        Complete-TrainingJob -Database $db -Id $claimed.JobId -ExitCode 0 | Should -BeNullOrEmpty
        $done = Get-TrainingJob -Database $db -Id $job.JobId
        $done.Status | Should -Be 'Completed'
        $done.CompletedAt | Should -BeGreaterOrEqual $done.StartedAt
        $done.WorkerId | Should -Be 'worker-01'
        $done.ExitCode | Should -Be 0
        $done.ErrorMessage | Should -BeNullOrEmpty
        $done.Duration | Should -Be ($done.CompletedAt - $done.StartedAt)
    }

    It 'takes the claimed job from the pipeline and emits it with -PassThru' {
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $done = Receive-TrainingJob -Database $db -WorkerId w | Complete-TrainingJob -PassThru
        $done.Status | Should -Be 'Completed'
    }

    It 'sends a failed job with retries left back to pending, one retry spent, after a backoff' {
        $job = Submit-TrainingJob -Database $db -Type training -MaxRetries 2
        $claimed = Receive-TrainingJob -Database $db -WorkerId w
        $before = Get-Date
        $retried = $claimed | Complete-TrainingJob -Failed -ErrorMessage 'CUDA out of memory' -ExitCode 137 -PassThru
        $retried.Status | Should -Be 'Pending'
        $retried.RetryCount | Should -Be 1
        $retried.ErrorMessage | Should -Be 'CUDA out of memory'
        $retried.ExitCode | Should -Be 137
        $retried.WorkerId | Should -BeNullOrEmpty
        $retried.NotBefore | Should -BeGreaterThan $before
        # The backoff holds the job back: it is not claimable straight away.
        Receive-TrainingJob -Database $db -WorkerId w | Should -BeNullOrEmpty
        (Get-TrainingJob -Database $db -Id $job.JobId).RetryCount | Should -Be 1
        (Get-TrainingJob -Database $db -Id $job.JobId | Format-List | Out-String) | Should -Match '(?m)^Next attempt\s*: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d'
    }

    It 'uses -RetryDelay instead of the backoff' {
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $first = Receive-TrainingJob -Database $db -WorkerId w
        $retried = $first | Complete-TrainingJob -Failed -RetryDelay 0 -PassThru
        $retried.Status | Should -Be 'Pending'
        $second = Receive-TrainingJob -Database $db -WorkerId w
        $second.JobId | Should -Be $first.JobId
        $second.Attempt | Should -Be 2
        $second.RetryCount | Should -Be 1
    }

    It 'fails a job for good when it is out of retries' {
        $job = Submit-TrainingJob -Database $db -Type training -MaxRetries 1
        Receive-TrainingJob -Database $db -WorkerId w | Complete-TrainingJob -Failed -ErrorMessage 'first' -RetryDelay 0
        $final = Receive-TrainingJob -Database $db -WorkerId w | Complete-TrainingJob -Failed -ErrorMessage 'second' -ExitCode 2 -PassThru
        $final.Status | Should -Be 'Failed'
        $final.RetryCount | Should -Be 1
        $final.ErrorMessage | Should -Be 'second'
        $final.ExitCode | Should -Be 2
        $final.CompletedAt | Should -Not -BeNullOrEmpty
        Receive-TrainingJob -Database $db -WorkerId w | Should -BeNullOrEmpty
        (Get-TrainingJob -Database $db -Id $job.JobId).Status | Should -Be 'Failed'
    }

    It 'fails at once with -MaxRetries 0, with a default message from the exit code' {
        Submit-TrainingJob -Database $db -Type export -MaxRetries 0 | Out-Null
        $final = Receive-TrainingJob -Database $db -WorkerId w | Complete-TrainingJob -Failed -ExitCode 3 -PassThru
        $final.Status | Should -Be 'Failed'
        $final.ErrorMessage | Should -Match '3'
    }

    It 'rejects a stale claim with JobNotOwned and changes nothing' {
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $stale = Receive-TrainingJob -Database $db -WorkerId 'worker-old'
        $stale | Complete-TrainingJob -Failed -RetryDelay 0
        $current = Receive-TrainingJob -Database $db -WorkerId 'worker-new'
        $before = Get-QueueSnapshot $db

        $err = Get-ThrownError { $stale | Complete-TrainingJob -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobNotOwned,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.Exception.Message | Should -Match 'not held by this claim'
        $err = Get-ThrownError { Complete-TrainingJob -Database $db -Id $current.JobId -Attempt 1 -Failed -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobNotOwned,*'
        $err = Get-ThrownError { Complete-TrainingJob -Database $db -Id $current.JobId -WorkerId 'worker-old' -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobNotOwned,*'
        Get-QueueSnapshot $db | Should -Be $before

        $current | Complete-TrainingJob
        (Get-TrainingJob -Database $db -Id $current.JobId).Status | Should -Be 'Completed'
    }

    It 'rejects completing a job that was never claimed, or twice' {
        $pending = Submit-TrainingJob -Database $db -Type training
        $err = Get-ThrownError { Complete-TrainingJob -Database $db -Id $pending.JobId -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobNotOwned,*'
        (Get-TrainingJob -Database $db -Id $pending.JobId).Status | Should -Be 'Pending'
        $claimed = Receive-TrainingJob -Database $db -WorkerId w
        $claimed | Complete-TrainingJob
        $before = Get-QueueSnapshot $db
        $err = Get-ThrownError { $claimed | Complete-TrainingJob -Failed -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobNotOwned,*'
        Get-QueueSnapshot $db | Should -Be $before
    }

    It 'changes nothing under -WhatIf' {
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $claimed = Receive-TrainingJob -Database $db -WorkerId w
        $before = Get-QueueSnapshot $db
        $claimed | Complete-TrainingJob -WhatIf
        $claimed | Complete-TrainingJob -Failed -WhatIf
        Get-QueueSnapshot $db | Should -Be $before
    }
}
