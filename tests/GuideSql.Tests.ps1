# The original guide's schema and troubleshooting SQL, run unchanged with the sqlite3 command
# against a queue the cmdlets made (SPEC section 1).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')

    function Get-Columns([string] $Database, [string] $Table) {
        Invoke-Sqlite $Database "SELECT name FROM pragma_table_info('$Table')"
    }
}

AfterAll { Remove-TestFolders }

Describe 'The guide''s SQL on a real queue (<_>)' -ForEach (Get-SqliteBackend) {
    BeforeAll {
        $db = New-TestDatabase -Backend $_
        $completed = Submit-TrainingJob -Database $db -Type training -Priority 7 -Config @{ training_config = @{ epochs = 10 } }
        Receive-TrainingJob -Database $db -WorkerId 'worker-01' | Complete-TrainingJob
        $stale = Submit-TrainingJob -Database $db -Type training -Priority 6
        Receive-TrainingJob -Database $db -WorkerId 'worker-02' | Out-Null
        $fresh = Submit-TrainingJob -Database $db -Type evaluation -Priority 5
        Receive-TrainingJob -Database $db -WorkerId 'worker-03' | Out-Null
        foreach ($message in 'CUDA out of memory', 'CUDA out of memory', 'dataset not found') {
            Submit-TrainingJob -Database $db -Type export -MaxRetries 0 -Priority 4 | Out-Null
            Receive-TrainingJob -Database $db -WorkerId 'worker-01' | Complete-TrainingJob -Failed -ErrorMessage $message
        }
        $pending = Submit-TrainingJob -Database $db -Type retraining -Priority 1
        # A worker that died two hours ago: its job still says running, started long before the cutoff.
        $twoHoursAgo = [DateTime]::UtcNow.AddHours(-2).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'")
        Invoke-Sqlite $db "UPDATE jobs SET started_at = '$twoHoursAgo' WHERE job_id = $($stale.JobId)" | Out-Null
    }

    It 'keeps the guide''s jobs table and column names' {
        $columns = Get-Columns $db 'jobs'
        foreach ($c in 'job_id', 'job_type', 'status', 'priority', 'config', 'created_at', 'started_at', 'completed_at', 'error_message', 'worker_id', 'retry_count', 'max_retries') {
            $columns | Should -Contain $c
        }
    }

    It 'keeps the guide''s schedules and job_logs tables and column names' {
        $columns = Get-Columns $db 'schedules'
        foreach ($c in 'schedule_id', 'name', 'job_type', 'config', 'schedule_expr', 'priority', 'enabled', 'next_run', 'last_run', 'created_at') {
            $columns | Should -Contain $c
        }
        Get-Columns $db 'job_logs' | Should -Be @('log_id', 'job_id', 'timestamp', 'level', 'message', 'attempt')
    }

    It 'stores statuses in lower case and times as ISO-8601 UTC text' {
        Invoke-Sqlite $db 'SELECT DISTINCT status FROM jobs ORDER BY status' | Should -Be @('completed', 'failed', 'pending', 'running')
        $times = Invoke-Sqlite $db 'SELECT created_at FROM jobs UNION ALL SELECT started_at FROM jobs WHERE started_at IS NOT NULL UNION ALL SELECT completed_at FROM jobs WHERE completed_at IS NOT NULL'
        $times.Count | Should -BeGreaterThan 10
        $times | ForEach-Object { $_ | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$' }
        $row = Invoke-Sqlite $db "SELECT job_type, status, priority, worker_id, retry_count, max_retries FROM jobs WHERE job_id = $($completed.JobId)"
        $row | Should -Be 'training|completed|7|worker-01|0|3'
    }

    It 'finds stale running jobs by started_at (Jobs stuck in "running" status)' {
        $cutoff = [DateTime]::UtcNow.AddHours(-1).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'")
        $rows = Invoke-Sqlite $db "SELECT job_id, started_at, worker_id FROM jobs WHERE status = 'running' AND started_at < '$cutoff'"
        @($rows).Count | Should -Be 1
        ($rows -split '\|')[0] | Should -Be "$($stale.JobId)"
        ($rows -split '\|')[2] | Should -Be 'worker-02'
        # The cmdlets agree on which jobs are running.
        (Get-TrainingJob -Database $db -Status Running).JobId | Sort-Object | Should -Be @($stale.JobId, $fresh.JobId)
    }

    It 'analyses failure patterns (High retry rate)' {
        $rows = Invoke-Sqlite $db "SELECT count(*), error_message FROM jobs WHERE status = 'failed' GROUP BY error_message ORDER BY count(*) DESC LIMIT 5"
        $rows | Should -Be @('2|CUDA out of memory', '1|dataset not found')
    }

    It 'counts what Get-JobQueueStatistics counts (stats)' {
        $rows = Invoke-Sqlite $db 'SELECT status, count(*) FROM jobs GROUP BY status ORDER BY status'
        $stats = Get-JobQueueStatistics -Database $db
        $rows | Should -Be @("completed|$($stats.Completed)", "failed|$($stats.Failed)", "pending|$($stats.Pending)", "running|$($stats.Running)")
    }

    It 'is in WAL mode (Database locked errors: verify WAL mode enabled)' {
        Invoke-Sqlite $db 'PRAGMA journal_mode' | Should -Be 'wal'
    }

    It 'shows a job''s logs the way the guide''s logs command did' {
        Write-TrainingJobLog -Database $db -Id $fresh.JobId -Message 'Starting training'
        Write-TrainingJobLog -Database $db -Id $fresh.JobId -Message 'GPU memory at 85%' -Level Warning
        $rows = Invoke-Sqlite $db "SELECT '[' || timestamp || '] ' || level || ': ' || message FROM job_logs WHERE job_id = $($fresh.JobId) ORDER BY log_id"
        $rows[0] | Should -Match '^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] INFO: Starting training$'
        $rows[1] | Should -Match 'WARNING: GPU memory at 85%$'
    }
}

Describe 'sqlite3 .backup while workers run (<_>)' -ForEach (Get-SqliteBackend) {
    It 'makes intact copies while another process keeps writing' {
        $db = New-TestDatabase -Backend $_
        $folder = New-TestFolder
        $writer = Start-QueueWriter -Database $db
        try {
            $copies = foreach ($i in 1..3) {
                $copy = Join-Path $folder "backup-$i.db"
                Invoke-Sqlite $db ".backup '$copy'" | Out-Null
                $copy
                Start-Sleep -Milliseconds 200
            }
        }
        finally { $written = Stop-QueueWriter $writer }
        $written | Should -BeGreaterThan 0 -Because 'the writer kept working during the backups'
        foreach ($copy in $copies) {
            Invoke-Sqlite $copy 'PRAGMA integrity_check' | Should -Be 'ok'
            [int](Invoke-Sqlite $copy 'SELECT count(*) FROM jobs') | Should -BeGreaterThan 0
            # Every completed job in the copy has its log line: one consistent moment.
            Invoke-Sqlite $copy "SELECT count(*) FROM jobs j WHERE status = 'completed' AND NOT EXISTS (SELECT 1 FROM job_logs l WHERE l.job_id = j.job_id)" | Should -Be '0'
            # The copy is a queue the cmdlets open.
            @(Get-TrainingJob -Database $copy -Status Completed).Count | Should -BeGreaterThan 0
        }
        (Get-JobQueueStatistics -Database $db).Completed | Should -Be $written
    }
}
