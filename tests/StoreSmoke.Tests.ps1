# Quick checks that each store driver does the job life cycle the same way. The conformance
# suites (-ForEach (Get-TestBackend)) go deeper; these keep the PostgreSQL driver honest until then.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'Job life cycle smoke (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
    }

    BeforeEach {
        $db = New-TestDatabase -Backend $backend
    }

    It 'stores what was submitted and gives it back as submitted' {
        $notBefore = (Get-Date).AddHours(1)
        $job = Submit-TrainingJob -Database $db -Type training -Config @{ epochs = 10; lr = 0.001; tags = @('a', 'b'); nested = @{ depth = 2 } } `
            -Priority 8 -MaxRetries 2 -Name 'resnet_50' -Command 'python', 'train.py' -Timeout '01:30:00' -GpuCount 2 -NotBefore $notBefore
        $got = Get-TrainingJob -Database $db -Id $job.JobId
        $got.Status | Should -Be 'Pending'
        $got.Priority | Should -Be 8
        $got.MaxRetries | Should -Be 2
        $got.Name | Should -Be 'resnet_50'
        $got.Command | Should -Be @('python', 'train.py')
        $got.Timeout | Should -Be ([TimeSpan]'01:30:00')
        $got.GpuCount | Should -Be 2
        $got.Config.epochs | Should -Be 10
        $got.Config.lr | Should -Be 0.001
        $got.Config.tags | Should -Be @('a', 'b')
        $got.Config.nested.depth | Should -Be 2
        $got.ConfigJson | Should -Be $job.ConfigJson
        $got.CreatedAt | Should -Be $job.CreatedAt
        $got.CreatedAt.Kind | Should -Be 'Local'
        [Math]::Abs(($got.NotBefore - $notBefore).TotalMilliseconds) | Should -BeLessThan 1
        $got.Database | Should -Be $job.Database
        # Literal '_' in a name wildcard.
        (Get-TrainingJob -Database $db -Name 'resnet_*').JobId | Should -Be $job.JobId
        Get-TrainingJob -Database $db -Name 'resnetX*' | Should -BeNullOrEmpty
    }

    It 'submits piped configs as one batch, ids in input order' {
        $jobs = 1..50 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type evaluation
        $jobs.Count | Should -Be 50
        $stored = @{}
        Get-TrainingJob -Database $db -Id $jobs.JobId | ForEach-Object { $stored[$_.JobId] = $_.Config.n }
        0..49 | ForEach-Object { $stored[$jobs[$_].JobId] | Should -Be ($_ + 1) }
        ($jobs.JobId | Sort-Object) | Should -Be $jobs.JobId
    }

    It 'claims highest priority first, then oldest, honouring NotBefore and types' {
        $low = Submit-TrainingJob -Database $db -Type training -Config @{} -Priority 2
        $later = Submit-TrainingJob -Database $db -Type training -Config @{} -Priority 9 -NotBefore (Get-Date).AddHours(1)
        $high1 = Submit-TrainingJob -Database $db -Type training -Config @{} -Priority 7
        $high2 = Submit-TrainingJob -Database $db -Type training -Config @{} -Priority 7
        $export = Submit-TrainingJob -Database $db -Type export -Config @{} -Priority 10
        (Receive-TrainingJob -Database $db -WorkerId w -Type training).JobId | Should -Be $high1.JobId
        (Receive-TrainingJob -Database $db -WorkerId w).JobId | Should -Be $export.JobId
        (Receive-TrainingJob -Database $db -WorkerId w).JobId | Should -Be $high2.JobId
        $last = Receive-TrainingJob -Database $db -WorkerId w
        $last.JobId | Should -Be $low.JobId
        $last.Status | Should -Be 'Running'
        $last.Attempt | Should -Be 1
        $last.WorkerId | Should -Be 'w'
        Receive-TrainingJob -Database $db -WorkerId w | Should -BeNullOrEmpty
        (Get-TrainingJob -Database $db -Id $later.JobId).Status | Should -Be 'Pending'
    }

    It 'completes only through the claim that owns the job' {
        Submit-TrainingJob -Database $db -Type training -Config @{} | Out-Null
        $claim = Receive-TrainingJob -Database $db -WorkerId w1
        { Complete-TrainingJob -Database $db -Id $claim.JobId -Attempt 7 -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotOwned*'
        { Complete-TrainingJob -Database $db -Id $claim.JobId -WorkerId other -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotOwned*'
        (Get-TrainingJob -Database $db -Id $claim.JobId).Status | Should -Be 'Running'
        $done = $claim | Complete-TrainingJob -ExitCode 0 -PassThru
        $done.Status | Should -Be 'Completed'
        $done.CompletedAt | Should -Not -BeNullOrEmpty
        { $claim | Complete-TrainingJob -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotOwned*'
        { Complete-TrainingJob -Database $db -Id 999999 -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotFound*'
    }

    It 'retries a failed job after a backoff, then fails it when out of retries' {
        Submit-TrainingJob -Database $db -Type training -Config @{} -MaxRetries 1 | Out-Null
        $first = Receive-TrainingJob -Database $db -WorkerId w
        $retry = $first | Complete-TrainingJob -Failed -ErrorMessage 'CUDA out of memory' -ExitCode 3 -PassThru
        $retry.Status | Should -Be 'Pending'
        $retry.RetryCount | Should -Be 1
        $retry.ErrorMessage | Should -Be 'CUDA out of memory'
        $retry.NotBefore | Should -BeGreaterThan (Get-Date)
        Receive-TrainingJob -Database $db -WorkerId w | Should -BeNullOrEmpty -Because 'the backoff has not passed'
        Restart-TrainingJob -Database $db -Id $retry.JobId -ErrorAction SilentlyContinue -ErrorVariable notRestartable
        $notRestartable[0].FullyQualifiedErrorId | Should -BeLike 'JobNotRestartable*'

        Submit-TrainingJob -Database $db -Type training -Config @{} -MaxRetries 0 | Out-Null
        $once = Receive-TrainingJob -Database $db -WorkerId w
        $failed = $once | Complete-TrainingJob -Failed -ExitCode 1 -PassThru
        $failed.Status | Should -Be 'Failed'
        $failed.ExitCode | Should -Be 1
        $again = Restart-TrainingJob -Database $db -Id $failed.JobId -PassThru
        $again.Status | Should -Be 'Pending'
        $again.ErrorMessage | Should -BeNullOrEmpty
        (Receive-TrainingJob -Database $db -WorkerId w).Attempt | Should -Be 2
    }

    It 'cancels pending jobs at once and running ones through their worker' {
        $pending = Submit-TrainingJob -Database $db -Type training -Config @{}
        $running = Submit-TrainingJob -Database $db -Type training -Config @{} -Priority 9
        $claim = Receive-TrainingJob -Database $db -WorkerId w
        $claim.JobId | Should -Be $running.JobId
        (Stop-TrainingJob -Database $db -Id $pending.JobId -PassThru).Status | Should -Be 'Cancelled'
        $asked = Stop-TrainingJob -Database $db -Id $running.JobId -PassThru
        $asked.Status | Should -Be 'Running'
        $asked.CancelRequested | Should -BeTrue
        ($claim | Complete-TrainingJob -Failed -ErrorMessage 'killed' -PassThru).Status | Should -Be 'Cancelled'
        Stop-TrainingJob -Database $db -Id $pending.JobId -ErrorAction SilentlyContinue -ErrorVariable finished
        $finished[0].FullyQualifiedErrorId | Should -BeLike 'JobAlreadyFinished*'
        $finished[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
    }

    It 'keeps logs per job, by level and tail, and removes them with the job' {
        $job = Submit-TrainingJob -Database $db -Type training -Config @{}
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'start'
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'slow step' -Level Warning
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'nan loss' -Level Error
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'end'
        (Get-TrainingJobLog -Database $db -Id $job.JobId).Message | Should -Be @('start', 'slow step', 'nan loss', 'end')
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Tail 2).Message | Should -Be @('nan loss', 'end')
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Level Warning, Error).Level | Should -Be @('Warning', 'Error')
        { Write-TrainingJobLog -Database $db -Id 999999 -Message x -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotFound*'

        $claim = Receive-TrainingJob -Database $db -WorkerId w
        { Remove-TrainingJob -Database $db -Id $job.JobId -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'JobIsRunning*'
        $claim | Complete-TrainingJob
        Remove-TrainingJob -Database $db -Id $job.JobId -Confirm:$false
        { Get-TrainingJobLog -Database $db -Id $job.JobId -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotFound*'
    }

    It 'counts jobs per state and type, and prunes finished ones by age' {
        1..3 | ForEach-Object { @{ i = $_ } } | Submit-TrainingJob -Database $db -Type training | Out-Null
        Submit-TrainingJob -Database $db -Type export -Config @{} | Out-Null
        Receive-TrainingJob -Database $db -WorkerId w -Type export | Complete-TrainingJob
        Receive-TrainingJob -Database $db -WorkerId w | Out-Null
        $stats = Get-JobQueueStatistics -Database $db
        $stats.Pending | Should -Be 2
        $stats.Running | Should -Be 1
        $stats.Completed | Should -Be 1
        $stats.Total | Should -Be 4
        ($stats.ByType | Where-Object JobType -EQ 'training').Pending | Should -Be 2
        (Get-JobQueueStatistics -Database $db -Type export).Total | Should -Be 1
        Remove-TrainingJob -Database $db -Status Completed -OlderThan 0 -Confirm:$false
        (Get-JobQueueStatistics -Database $db).Total | Should -Be 3
    }
}
