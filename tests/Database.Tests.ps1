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

Describe 'A queue made by an older JobQueue is upgraded in place (<_>)' -ForEach (Get-SqliteBackend) {
    # Schema version 3 kept one counter row per type and status, maintained on every status
    # change, and two indexes of running jobs. Steps 4 and 5 fold the pending and running
    # counters into one and replace the indexes; the statistics must come out the same.
    BeforeAll {
        $db = New-TestDatabase
        $seed = Invoke-Pwsh @"
1..3 | ForEach-Object { Submit-TrainingJob -Database '$db' -Type training } | Out-Null
1..2 | ForEach-Object { Submit-TrainingJob -Database '$db' -Type evaluation } | Out-Null
`$cancel = Submit-TrainingJob -Database '$db' -Type export
Stop-TrainingJob -Database '$db' -Id `$cancel.JobId -Confirm:`$false | Out-Null
1..3 | ForEach-Object { Receive-TrainingJob -Database '$db' -WorkerId old-worker } | Select-Object -Last 1 | Complete-TrainingJob | Out-Null
"@
        $seed.ExitCode | Should -Be 0 -Because $seed.Error
        # The file as version 3 left it: its triggers, its indexes and its counters.
        Invoke-Sqlite $db @"
DROP TRIGGER tr_jobs_count_insert; DROP TRIGGER tr_jobs_count_update; DROP TRIGGER tr_jobs_count_delete;
DROP INDEX ix_jobs_running_worker;
CREATE INDEX ix_jobs_running_worker ON jobs (worker_id) WHERE status = 'running';
CREATE INDEX ix_jobs_lease ON jobs (lease_expires_at) WHERE status = 'running';
DELETE FROM job_counts;
INSERT INTO job_counts (job_type, status, n) SELECT job_type, status, count(*) FROM jobs GROUP BY job_type, status;
CREATE TRIGGER tr_jobs_count_insert AFTER INSERT ON jobs WHEN NOT EXISTS (SELECT 1 FROM jobqueue_settings WHERE key = 'batch_counts_pending') BEGIN
  INSERT INTO job_counts (job_type, status, n) VALUES (NEW.job_type, NEW.status, 1) ON CONFLICT (job_type, status) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER tr_jobs_count_update AFTER UPDATE OF status, job_type ON jobs WHEN OLD.status IS NOT NEW.status OR OLD.job_type IS NOT NEW.job_type BEGIN
  UPDATE job_counts SET n = n - 1 WHERE job_type = OLD.job_type AND status = OLD.status;
  INSERT INTO job_counts (job_type, status, n) VALUES (NEW.job_type, NEW.status, 1) ON CONFLICT (job_type, status) DO UPDATE SET n = n + 1; END;
CREATE TRIGGER tr_jobs_count_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_counts SET n = n - 1 WHERE job_type = OLD.job_type AND status = OLD.status; END;
PRAGMA user_version = 3;
"@ | Out-Null
        $latest = (Initialize-JobQueue -Database (New-TestDatabase)).SchemaVersion
    }

    It 'reports the same statistics after the upgrade, and keeps them right as jobs finish' {
        $r = Invoke-Pwsh @"
`$info = Initialize-JobQueue -Database '$db'
`$before = Get-JobQueueStatistics -Database '$db'
Get-TrainingJob -Database '$db' -Status Running | Select-Object -First 1 | Complete-TrainingJob | Out-Null
`$after = Get-JobQueueStatistics -Database '$db'
[pscustomobject]@{
    Version = `$info.SchemaVersion
    Before = '{0} {1} {2} {3} {4}' -f `$before.Pending, `$before.Running, `$before.Completed, `$before.Failed, `$before.Cancelled
    TrainingBefore = (`$before.ByType | Where-Object JobType -eq training | ForEach-Object { '{0} {1} {2}' -f `$_.Pending, `$_.Running, `$_.Completed })
    After = '{0} {1} {2} {3} {4}' -f `$after.Pending, `$after.Running, `$after.Completed, `$after.Failed, `$after.Cancelled
} | ConvertTo-Json -Compress
"@
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $result = $r.Output | ConvertFrom-Json
        $result.Version | Should -Be $latest
        $result.Before | Should -Be '2 2 1 0 1' -Because 'pending, running, completed, failed, cancelled as version 3 counted them'
        $result.TrainingBefore | Should -Be '0 2 1'
        $result.After | Should -Be '2 1 2 0 1'
        Invoke-Sqlite $db "SELECT count(*) FROM job_counts WHERE status IN ('pending', 'running')" | Should -Be '0'
        Invoke-Sqlite $db "SELECT count(*) FROM sqlite_schema WHERE name = 'ix_jobs_lease'" | Should -Be '0'
    }
}
