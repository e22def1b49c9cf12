# Job logs: Write-TrainingJobLog and Get-TrainingJobLog with -Level, -Tail and -Wait.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

AfterAll { Remove-TestFolders }

Describe 'Write-TrainingJobLog and Get-TrainingJobLog (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach {
        $db = New-TestDatabase -Backend $backend
        $job = Submit-TrainingJob -Database $db -Type training
    }

    It 'keeps the guide''s log lines in order, INFO by default' {
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'Starting training' | Should -BeNullOrEmpty
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'Epoch 1/10 - loss: 0.45'
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'GPU memory at 85%' -Level Warning
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'Training completed'
        $logs = Get-TrainingJobLog -Database $db -Id $job.JobId
        $logs.Message | Should -Be @('Starting training', 'Epoch 1/10 - loss: 0.45', 'GPU memory at 85%', 'Training completed')
        $logs.Level | Should -Be @('Info', 'Info', 'Warning', 'Info')
        $logs.JobId | Sort-Object -Unique | Should -Be $job.JobId
        $logs[1].LogId | Should -BeGreaterThan $logs[0].LogId
        $logs[0].Timestamp | Should -BeLessOrEqual $logs[3].Timestamp
        "$($logs[2])" | Should -Match '^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] WARNING: GPU memory at 85%$'
    }

    It 'shows a table of timestamp, level and message' {
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'GPU memory at 85%' -Level Warning
        $text = Get-TrainingJobLog -Database $db -Id $job.JobId | Out-String -Width 200
        $text | Should -Match 'Timestamp\s+Level\s+Message'
        $text | Should -Match 'WARNING\s+GPU memory at 85%'
    }

    It 'takes messages from the pipeline, empty lines and unicode included' {
        'first', '', 'ünïcødé 🚀' | Write-TrainingJobLog -Database $db -Id $job.JobId
        (Get-TrainingJobLog -Database $db -Id $job.JobId).Message | Should -Be @('first', '', 'ünïcødé 🚀')
    }

    It 'takes the job from the pipeline by property name' {
        Get-TrainingJob -Database $db -Id $job.JobId | Write-TrainingJobLog -Message 'via pipeline'
        (Get-TrainingJob -Database $db -Id $job.JobId | Get-TrainingJobLog).Message | Should -Be 'via pipeline'
    }

    It 'filters by -Level' {
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'a'
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'b' -Level Warning
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'c' -Level Error
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'd' -Level Warning
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Level Warning).Message | Should -Be @('b', 'd')
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Level Error, Warning).Message | Should -Be @('b', 'c', 'd')
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Level Info).Message | Should -Be @('a')
    }

    It 'shows the last lines, oldest first, with -Tail' {
        1..10 | ForEach-Object { Write-TrainingJobLog -Database $db -Id $job.JobId -Message "line $_" -Level ($(if ($_ % 2) { 'Info' } else { 'Error' })) }
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Tail 3).Message | Should -Be @('line 8', 'line 9', 'line 10')
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Tail 2 -Level Error).Message | Should -Be @('line 8', 'line 10')
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Tail 50).Count | Should -Be 10
        Get-TrainingJobLog -Database $db -Id $job.JobId -Tail 0 | Should -BeNullOrEmpty
    }

    It 'writes to the running job named by $env:JOBQUEUE_JOB_ID when -Id is omitted, with its attempt' {
        $claimed = Receive-TrainingJob -Database $db -WorkerId w
        $saved = $env:JOBQUEUE_JOB_ID, $env:JOBQUEUE_ATTEMPT
        $env:JOBQUEUE_JOB_ID = $claimed.JobId
        $env:JOBQUEUE_ATTEMPT = $claimed.Attempt
        try {
            Write-TrainingJobLog -Database $db -Message 'from inside the job' -Level Warning
        }
        finally { $env:JOBQUEUE_JOB_ID, $env:JOBQUEUE_ATTEMPT = $saved }
        $entry = Get-TrainingJobLog -Database $db -Id $claimed.JobId
        $entry.Message | Should -Be 'from inside the job'
        $entry.Level | Should -Be 'Warning'
        $entry.Attempt | Should -Be 1
    }

    It 'asks for an id with JobIdRequired when there is neither -Id nor $env:JOBQUEUE_JOB_ID' {
        $saved = $env:JOBQUEUE_JOB_ID
        $env:JOBQUEUE_JOB_ID = $null
        try {
            $err = Get-ThrownError { Write-TrainingJobLog -Database $db -Message 'lost' }
        }
        finally { $env:JOBQUEUE_JOB_ID = $saved }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobIdRequired,*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-TrainingJobLog -Database $db -Id $job.JobId | Should -BeNullOrEmpty
    }

    It 'refuses an unknown job id with JobNotFound and writes nothing' {
        $before = Get-QueueSnapshot $db
        $err = Get-ThrownError { Write-TrainingJobLog -Database $db -Id 987654 -Message 'nowhere' -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobNotFound,*'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err = Get-ThrownError { Get-TrainingJobLog -Database $db -Id 987654 -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobNotFound,*'
        Get-QueueSnapshot $db | Should -Be $before
    }

    It 'shows nothing, and no error, for a job without logs' {
        Get-TrainingJobLog -Database $db -Id $job.JobId -ErrorVariable errors | Should -BeNullOrEmpty
        $errors.Count | Should -Be 0
    }

    It 'returns at once with -Wait when the job has already ended' {
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'only line'
        Stop-TrainingJob -Database $db -Id $job.JobId
        (Get-TrainingJobLog -Database $db -Id $job.JobId -Wait).Message | Should -Be 'only line'
    }

    It 'follows new lines live with -Wait in another process, and stops when the job ends' {
        $claimed = Receive-TrainingJob -Database $db -WorkerId w
        Write-TrainingJobLog -Database $db -Id $claimed.JobId -Message 'before the follower'
        $out = Join-Path (New-TestFolder) 'followed.txt'
        $follower = Start-Pwsh @"
Get-TrainingJobLog -Database '$db' -Id $($claimed.JobId) -Wait -PollInterval 00:00:00.100 |
    ForEach-Object { Add-Content -LiteralPath '$out' -Value "`$(`$_.Level) `$(`$_.Message)" }
"@
        try {
            Wait-Until { (Test-Path $out) -and (Get-Content $out) -contains 'Info before the follower' } -Because 'the follower to show the existing line'
            Write-TrainingJobLog -Database $db -Id $claimed.JobId -Message 'Epoch 1/2 - loss: 0.45'
            Write-TrainingJobLog -Database $db -Id $claimed.JobId -Message 'GPU memory at 85%' -Level Warning
            # The lines reach the follower while the job is still running.
            Wait-Until { (Get-Content $out) -contains 'Warning GPU memory at 85%' } -Because 'the follower to show a new line'
            $follower.HasExited | Should -BeFalse
            Write-TrainingJobLog -Database $db -Id $claimed.JobId -Message 'Training completed'
            $claimed | Complete-TrainingJob
            $follower.WaitForExit(120000) | Should -BeTrue -Because 'the follower ends when the job ends'
            $follower.ExitCode | Should -Be 0
            Get-Content $out | Should -Be @('Info before the follower', 'Info Epoch 1/2 - loss: 0.45', 'Warning GPU memory at 85%', 'Info Training completed')
        }
        finally { if (-not $follower.HasExited) { $follower.Kill($true) } }
    }
}

Describe 'Job logs in the SQLite file (<_>)' -ForEach (Get-SqliteBackend) {
    It 'stores the guide''s job_logs columns, levels in capitals, times as ISO-8601 UTC text' {
        $db = New-TestDatabase -Backend $_
        $job = Submit-TrainingJob -Database $db -Type training
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'GPU memory at 85%' -Level Warning
        $row = Invoke-Sqlite $db "SELECT job_id, level, message, timestamp FROM job_logs WHERE job_id = $($job.JobId)"
        $row | Should -Match "^$($job.JobId)\|WARNING\|GPU memory at 85%\|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
    }
}
