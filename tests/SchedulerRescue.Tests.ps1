BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'A scheduler pass rescues the jobs of dead workers (<_>)' -ForEach (Get-TestBackend) {
    BeforeEach {
        $db = New-TestDatabase -Backend $_
    }

    It 'puts a job whose lease expired back to pending with a retry spent, even with no worker alive' {
        $job = Submit-TrainingJob -Database $db -Type training -MaxRetries 2
        $claimed = Receive-TrainingJob -Database $db -WorkerId 'vanished-worker' -Lease 00:00:01
        $claimed.JobId | Should -Be $job.JobId
        Start-Sleep -Milliseconds 1500

        Invoke-JobScheduler -Database $db | Out-Null

        $after = Get-TrainingJob -Database $db -Id $job.JobId
        $after.Status | Should -Be 'Pending'
        $after.RetryCount | Should -Be 1
        # The dead claim can no longer complete the job.
        { $claimed | Complete-TrainingJob -ErrorAction Stop } | Should -Throw -ErrorId 'JobNotOwned*'
    }

    It 'leaves a live lease alone, even when the pass replays a moment far in the future' {
        $job = Submit-TrainingJob -Database $db -Type training
        $null = Receive-TrainingJob -Database $db -WorkerId 'live-worker' -Lease 01:00:00

        Invoke-JobScheduler -Database $db -Now ([DateTimeOffset]::UtcNow.AddDays(7)) | Out-Null

        $after = Get-TrainingJob -Database $db -Id $job.JobId
        $after.Status | Should -Be 'Running'
        $after.WorkerId | Should -Be 'live-worker'
    }
}
