# Which queue a command uses: -Database, $PSDefaultParameterValues, $env:JOBQUEUE_DATABASE, the
# per-user default, and relative paths (SPEC section 1).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

AfterAll { Remove-TestFolders }

Describe 'Which queue a command uses (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach {
        $db = New-TestDatabase -Backend $backend
        $savedEnv = $env:JOBQUEUE_DATABASE
        $savedDefaults = $global:PSDefaultParameterValues.Clone()
    }
    AfterEach {
        $env:JOBQUEUE_DATABASE = $savedEnv
        $global:PSDefaultParameterValues = $savedDefaults
    }

    It 'takes -Database from $PSDefaultParameterValues, as any cmdlet does' {
        $global:PSDefaultParameterValues['*-TrainingJob*:Database'] = $db
        $global:PSDefaultParameterValues['*-JobQueue*:Database'] = $db
        Initialize-JobQueue | Out-Null
        $job = Submit-TrainingJob -Type training -Config @{ via = 'defaults' }
        $claimed = Receive-TrainingJob -WorkerId w
        Write-TrainingJobLog -Id $claimed.JobId -Message 'hello'
        Complete-TrainingJob -Id $claimed.JobId
        (Get-TrainingJobLog -Id $job.JobId).Message | Should -Be 'hello'
        (Get-JobQueueStatistics).Completed | Should -Be 1
        $global:PSDefaultParameterValues = $savedDefaults
        (Get-TrainingJob -Database $db -Id $job.JobId).Status | Should -Be 'Completed'
    }

    It 'uses $env:JOBQUEUE_DATABASE when -Database is omitted' {
        $env:JOBQUEUE_DATABASE = $db
        $job = Submit-TrainingJob -Type evaluation
        (Get-TrainingJob -Id $job.JobId).JobType | Should -Be 'evaluation'
        $env:JOBQUEUE_DATABASE = $savedEnv
        (Get-TrainingJob -Database $db).JobId | Should -Be $job.JobId
    }

    It 'prefers -Database over $env:JOBQUEUE_DATABASE' {
        $other = New-TestDatabase -Backend $backend
        $env:JOBQUEUE_DATABASE = $other
        Submit-TrainingJob -Database $db -Type training | Out-Null
        @(Get-TrainingJob -Database $db).Count | Should -Be 1
        @(Get-TrainingJob).Count | Should -Be 0
    }
}

Describe 'Where the SQLite file lives (<_>)' -ForEach (Get-SqliteBackend) {
    BeforeEach {
        $folder = New-TestFolder
        $savedEnv = $env:JOBQUEUE_DATABASE
    }
    AfterEach { $env:JOBQUEUE_DATABASE = $savedEnv }

    It 'resolves a relative -Database against the PowerShell location, not the process folder' {
        [Environment]::CurrentDirectory | Should -Not -Be $folder
        Push-Location $folder
        try {
            $job = Submit-TrainingJob -Database 'queues/jobs.db' -Type training
            (Get-TrainingJob -Database './queues/jobs.db' -Id $job.JobId).JobId | Should -Be $job.JobId
        }
        finally { Pop-Location }
        $expected = Join-Path $folder 'queues/jobs.db'
        Test-Path $expected | Should -BeTrue
        $job.Database | Should -Be $expected
        Test-Path (Join-Path ([Environment]::CurrentDirectory) 'queues/jobs.db') | Should -BeFalse
    }

    It 'resolves a relative $env:JOBQUEUE_DATABASE the same way' {
        $env:JOBQUEUE_DATABASE = 'env-jobs.db'
        Push-Location $folder
        try { Submit-TrainingJob -Type training | Out-Null }
        finally { Pop-Location }
        Test-Path (Join-Path $folder 'env-jobs.db') | Should -BeTrue
    }

    It 'creates the folders of a new database' {
        $db = Join-Path $folder 'a/b/c/jobs.db'
        (Initialize-JobQueue -Database $db).Database | Should -Be $db
        Test-Path $db -PathType Leaf | Should -BeTrue
    }

    It 'defaults to jobs.db in the per-user data folder (<Variable>)' -ForEach @(
        if ($IsLinux) { @{ Variable = 'XDG_DATA_HOME'; Relative = 'JobQueue/jobs.db' } }
        elseif ($IsMacOS) { @{ Variable = 'HOME'; Relative = 'Library/Application Support/JobQueue/jobs.db' } }
    ) {
        # Point the per-user folder at a temporary one: the test never touches the real default queue.
        $saved = [Environment]::GetEnvironmentVariable($Variable)
        [Environment]::SetEnvironmentVariable($Variable, $folder)
        $env:JOBQUEUE_DATABASE = $null
        try {
            $job = Submit-TrainingJob -Type training -Name 'default-queue'
        }
        finally { [Environment]::SetEnvironmentVariable($Variable, $saved) }
        $expected = Join-Path $folder $Relative
        Test-Path $expected | Should -BeTrue
        $job.Database | Should -Be $expected
        (Get-TrainingJob -Database $expected).Name | Should -Be 'default-queue'
    }
}

Describe 'The SQLite write-ahead log stays small (<_>)' -ForEach (Get-SqliteBackend) {
    # SQLite checkpoints the -wal into the database every 1,000 pages and then reuses it from the
    # start, so it stays near 4 MiB; a session whose commits skipped the checkpoint would grow it
    # by tens of KiB per job (hundreds of MB over a day's queue) until every connection closed.
    BeforeAll {
        $db = New-TestDatabase
        $walLimit = 8MB
    }

    It 'after 1,500 submissions, one transaction each' {
        foreach ($i in 1..1500) { Submit-TrainingJob -Database $db -Type training -Config @{ i = $i } | Out-Null }
        (Get-Item "$db-wal").Length | Should -BeLessThan $walLimit
        (Get-JobQueueStatistics -Database $db).Pending | Should -Be 1500
    }

    It 'after 1,500 claims, log lines and completions' {
        while ($job = Receive-TrainingJob -Database $db -WorkerId wal-test) {
            Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'done'
            $job | Complete-TrainingJob | Out-Null
        }
        (Get-Item "$db-wal").Length | Should -BeLessThan $walLimit
        (Get-JobQueueStatistics -Database $db).Completed | Should -Be 1500
    }
}
