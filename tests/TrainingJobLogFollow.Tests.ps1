BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'Get-TrainingJobLog -Wait with -Tail (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
    }

    It 'with -Tail 0 shows only the entries written after it started, until the job ends' {
        $db = New-TestDatabase -Backend $backend
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $job = Receive-TrainingJob -Database $db -WorkerId worker-01
        1..3 | ForEach-Object { Write-TrainingJobLog -Database $db -Id $job.JobId -Message "old $_" }
        $module = Join-Path $script:RepoRoot 'JobQueue.psd1'
        $writer = Start-ThreadJob {
            Import-Module $using:module
            $claimed = $using:job
            Start-Sleep -Seconds 2
            Write-TrainingJobLog -Database $claimed.Database -Id $claimed.JobId -Message 'new 1'
            $claimed | Complete-TrainingJob
        }
        try {
            $followed = Get-TrainingJobLog -Database $db -Id $job.JobId -Tail 0 -Wait -PollInterval 00:00:00.1
            $followed.Message | Should -Be @('new 1')
        }
        finally {
            Remove-Job $writer -Force
        }
    }

    It 'with -Tail 2 shows the last two entries, then the new ones' {
        $db = New-TestDatabase -Backend $backend
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $job = Receive-TrainingJob -Database $db -WorkerId worker-01
        1..3 | ForEach-Object { Write-TrainingJobLog -Database $db -Id $job.JobId -Message "old $_" }
        $job | Complete-TrainingJob
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Tail 2 -Wait).Message | Should -Be @('old 2', 'old 3')
    }
}
