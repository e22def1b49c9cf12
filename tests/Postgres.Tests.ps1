# What is PostgreSQL-specific by nature: connection strings, passwords, the schema, privileges,
# and claiming from many processes. The behaviour both backends share lives in the conformance
# suites (-ForEach (Get-TestBackend)); the smoke tests at the end check this driver until then.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Postgres.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Postgres.Helpers.ps1')
}

Describe 'PostgreSQL database strings that cannot be used' {
    It 'rejects a malformed URI with InvalidConnectionString, showing the password masked' {
        $err = $null
        try { Initialize-JobQueue -Database 'postgres://ops:Hunter2Secret@db.example:notaport/jobs' } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidConnectionString*'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'notaport'
        $err.Exception.Message | Should -Match ([regex]::Escape('ops:***@'))
        ($err | Out-String) + $err.Exception.ToString() | Should -Not -Match 'Hunter2Secret'
    }

    It 'rejects an unknown URI parameter and a bad sslmode' {
        { Initialize-JobQueue -Database 'postgresql://ops@db.example/jobs?colour=blue' } |
            Should -Throw -ErrorId 'InvalidConnectionString*' -ExpectedMessage '*colour*'
        { Initialize-JobQueue -Database 'postgresql://ops@db.example/jobs?sslmode=sometimes' } |
            Should -Throw -ErrorId 'InvalidConnectionString*' -ExpectedMessage '*sslmode*'
    }

    It 'reports an unreachable server as PostgresUnreachable without the password' {
        $port = Get-FreeLoopbackPort
        $err = $null
        try { Get-TrainingJob -Database "Host=127.0.0.1;Port=$port;Database=jobs;Username=ops;Password=Hunter2Secret;Timeout=5" } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'PostgresUnreachable*'
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err.Exception.Message | Should -Match 'Password=\*\*\*'
        ($err | Out-String) + $err.Exception.ToString() + $err.TargetObject | Should -Not -Match 'Hunter2Secret'
    }
}

Describe 'The module on PostgreSQL' -ForEach @(Get-PostgresTestServer) {
    It 'loads Npgsql into its private load context in a fresh process' {
        $db = New-PostgresTestDatabase
        $r = Invoke-Pwsh @"
`$info = Initialize-JobQueue -Database '$db'
`$npgsql = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'Npgsql' }
"`$(`$info.Backend) `$(@(`$npgsql).Count) `$([Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$npgsql).Name)"
"@
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $r.Output.Trim() | Should -Be 'PostgreSQL 1 JobQueue.Engine'
    }
}

Describe 'PostgreSQL connections' -ForEach @(Get-PostgresTestServer) {
    BeforeAll {
        $db = New-PostgresTestDatabase
        $dbName = Get-TestDatabaseName $db
        # '@' and ':' in a password must be percent-encoded in a URI.
        $password = 'p@ss:' + [guid]::NewGuid().ToString('N').Substring(0, 10)
        $role = Set-PostgresPasswordRole -Password $password -Database $dbName
        $encoded = [Uri]::EscapeDataString($password)
        $base = "${PgHost}:$PgPort/$dbName"
    }

    It 'opens a postgres:// URI with user, password, port, database and parameters, and masks the password' {
        $uri = "postgres://${role}:$encoded@$base`?sslmode=disable&application_name=jq-uri-test"
        $info = Initialize-JobQueue -Database $uri
        $info.Backend | Should -Be 'PostgreSQL'
        $info.Database | Should -Be "postgres://${role}:***@$base`?sslmode=disable&application_name=jq-uri-test"
        $job = Submit-TrainingJob -Database $uri -Type training -Config @{ epochs = 2 }
        $job.Database | Should -Be $info.Database
        ($job | Format-List * | Out-String) + ($info | Format-List * | Out-String) | Should -Not -Match ([regex]::Escape($password))
        # A piped job reaches its queue through the masked name.
        ($job | Get-TrainingJob).Status | Should -Be 'Pending'
        Invoke-TestPsql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'jq-uri-test'" | Should -BeGreaterThan 0
    }

    It 'opens a key=value connection string with Password and masks it' {
        $cs = "Host=$PgHost;Port=$PgPort;Database=$dbName;Username=$role;Password=$password"
        $info = Initialize-JobQueue -Database $cs
        $info.Database | Should -Be "Host=$PgHost;Port=$PgPort;Database=$dbName;Username=$role;Password=***"
        (Get-TrainingJob -Database $cs -First 1).Database | Should -Be $info.Database
    }

    It 'takes the password from PGPASSWORD when the URI has none' {
        $r = Invoke-Pwsh "(Get-JobQueueStatistics -Database 'postgresql://$role@$base').Total" -Environment @{ PGPASSWORD = $password }
        $r.ExitCode | Should -Be 0 -Because $r.Error
        [int]$r.Output.Trim() | Should -BeGreaterOrEqual 1
    }

    It 'takes the password from ~/.pgpass when neither the URI nor PGPASSWORD has one' {
        $env:PGPASSWORD | Should -BeNullOrEmpty -Because 'the child process inherits this environment'
        $home2 = Join-Path ([IO.Path]::GetTempPath()) ('jq-home-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory $home2 | Out-Null
        $pgpass = Join-Path $home2 '.pgpass'
        # .pgpass escapes ':' and '\' with a backslash.
        Set-Content $pgpass "${PgHost}:${PgPort}:${dbName}:${role}:$($password.Replace('\', '\\').Replace(':', '\:'))"
        & chmod 600 $pgpass
        $r = Invoke-Pwsh "(Get-JobQueueStatistics -Database 'postgresql://$role@$base').Total" -Environment @{ HOME = $home2 }
        $r.ExitCode | Should -Be 0 -Because $r.Error
        [int]$r.Output.Trim() | Should -BeGreaterOrEqual 1
        Remove-Item -Recurse -Force $home2
    }

    It 'fails a wrong password with PostgresLoginFailed and never shows it' {
        foreach ($database in "postgresql://${role}:WrongSecret42@$base", "Host=$PgHost;Port=$PgPort;Database=$dbName;Username=$role;Password=WrongSecret42") {
            $err = $null
            try { Get-TrainingJob -Database $database } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'PostgresLoginFailed*'
            $err.Exception.Message | Should -Match 'password authentication failed'
            ($err | Out-String) + $err.Exception.ToString() + $err.TargetObject | Should -Not -Match 'WrongSecret42'
        }
    }

    It 'honours sslmode=require (this server has no SSL)' {
        { Get-TrainingJob -Database "postgresql://$role@$base`?sslmode=require" } | Should -Throw -ExpectedMessage '*SSL*'
    }

    It 'names a missing database' {
        { Get-TrainingJob -Database "postgresql://postgres@${PgHost}:$PgPort/jq_no_such_db" } |
            Should -Throw -ErrorId 'PostgresDatabaseNotFound*' -ExpectedMessage '*jq_no_such_db*'
    }
}

Describe 'PostgreSQL schema' -ForEach @(Get-PostgresTestServer) {
    It 'creates the tables and indexes of the SQLite schema, at the same schema version' {
        $db = New-PostgresTestDatabase
        $pg = Initialize-JobQueue -Database $db
        $lite = Initialize-JobQueue -Database (New-TestDatabase)
        $pg.SchemaVersion | Should -Be $lite.SchemaVersion
        $pg.SynchronousCommit | Should -Be 'on'
        $pg.Durability | Should -Be 'Full'
        $tables = Invoke-TestPsql "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1" -Database $db
        $tables | Should -Be @('job_counts', 'job_logs', 'jobqueue_schema_version', 'jobqueue_settings', 'jobs', 'schedules', 'workers')
        $claim = Invoke-TestPsql "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_jobs_claim'" -Database $db
        $claim | Should -Match "priority DESC, job_id\) WHERE \(status = 'pending'::text\)"
        Invoke-TestPsql "SELECT indexdef FROM pg_indexes WHERE indexname = 'ux_jobs_occurrence'" -Database $db |
            Should -Match 'UNIQUE INDEX .*\(schedule_id, scheduled_for\)'
        $columns = Invoke-TestPsql "SELECT column_name FROM information_schema.columns WHERE table_name = 'jobs' ORDER BY ordinal_position" -Database $db
        foreach ($c in 'job_id', 'job_type', 'status', 'priority', 'config', 'created_at', 'started_at', 'completed_at', 'error_message', 'worker_id', 'retry_count', 'max_retries') {
            $columns | Should -Contain $c
        }
    }

    It 'sets Durability Normal as synchronous_commit off, and back' {
        $db = New-PostgresTestDatabase
        (Initialize-JobQueue -Database $db -Durability Normal).SynchronousCommit | Should -Be 'off'
        $r = Invoke-Pwsh "(Initialize-JobQueue -Database '$db').SynchronousCommit"
        $r.Output.Trim() | Should -Be 'off' -Because 'the setting is kept in the database'
        (Initialize-JobQueue -Database $db -Durability Full).Durability | Should -Be 'Full'
    }

    It 'refuses a database of a newer schema version and changes nothing' {
        $db = New-PostgresTestDatabase
        Submit-TrainingJob -Database $db -Type training -Config @{ a = 1 } | Out-Null
        $steps = (Initialize-JobQueue -Database $db).SchemaVersion
        Invoke-TestPsql 'INSERT INTO jobqueue_schema_version (version) VALUES (99)' -Database $db | Out-Null
        $r = Invoke-Pwsh "try { Initialize-JobQueue -Database '$db' } catch { `$_.FullyQualifiedErrorId; `$_.CategoryInfo.Category; `$_.Exception.Message }"
        $lines = $r.Output -split "`n"
        $lines[0] | Should -BeLike 'SchemaTooNew*'
        $lines[1] | Should -Be 'InvalidData'
        $lines[2] | Should -Match 'schema version 99'
        Invoke-TestPsql 'SELECT count(*), max(version) FROM jobqueue_schema_version' -Database $db | Should -Be "$($steps + 1)`t99"
        Invoke-TestPsql 'SELECT count(*) FROM jobs' -Database $db | Should -Be '1'
    }

    It 'refuses a database whose jobs table JobQueue did not make, and changes nothing' {
        $db = New-PostgresTestDatabase
        Invoke-TestPsql 'CREATE TABLE jobs (id int)' -Database $db | Out-Null
        { Initialize-JobQueue -Database $db } | Should -Throw -ErrorId 'NotAJobQueueDatabase*'
        Invoke-TestPsql "SELECT to_regclass('jobqueue_schema_version') IS NULL" -Database $db | Should -Be 't'
    }

    It 'creates the schema once when several processes initialise at the same moment' {
        $db = New-PostgresTestDatabase
        $go = Join-Path ([IO.Path]::GetTempPath()) ('jq-go-' + [guid]::NewGuid().ToString('N'))
        $logs = 1..4 | ForEach-Object { Join-Path ([IO.Path]::GetTempPath()) ("jq-init-$_-" + [guid]::NewGuid().ToString('N') + '.txt') }
        $processes = $logs | ForEach-Object {
            Start-Pwsh -OutputPath $_ -Script "while (-not (Test-Path '$go')) { Start-Sleep -Milliseconds 10 }; (Initialize-JobQueue -Database '$db').SchemaVersion"
        }
        New-Item -ItemType File $go | Out-Null
        foreach ($p in $processes) { $p.WaitForExit(120000) | Should -BeTrue }
        $processes.ExitCode | Should -Be @(0, 0, 0, 0) -Because (Get-Content $logs -Raw)
        $latest = (Initialize-JobQueue -Database $db).SchemaVersion
        Invoke-TestPsql 'SELECT count(*), max(version) FROM jobqueue_schema_version' -Database $db | Should -Be "$latest`t$latest"
        Remove-Item (@($go) + $logs) -ErrorAction Ignore
    }
}

Describe 'PostgreSQL privileges' -ForEach @(Get-PostgresTestServer) {
    It 'lets a role with only SELECT, INSERT, UPDATE and DELETE use a queue the owner initialised' {
        $db = New-PostgresTestDatabase
        Initialize-JobQueue -Database $db | Out-Null
        $role = New-PostgresTestRole -Prefix 'jq_rw'
        Invoke-TestPsql "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $role" -Database $db | Out-Null
        $asRole = "$db;Username=$role"
        $job = Submit-TrainingJob -Database $asRole -Type training -Config @{ lr = 0.1 }
        1..3 | ForEach-Object { @{ i = $_ } } | Submit-TrainingJob -Database $asRole -Type export | Out-Null
        # A batch large enough to refresh the planner's statistics, which this role may not do: PostgreSQL skips it.
        (1..1000 | ForEach-Object { @{ i = $_ } } | Submit-TrainingJob -Database $asRole -Type evaluation).Count | Should -Be 1000
        Invoke-TestPsql "DELETE FROM jobs WHERE job_type = 'evaluation'" -Database $db | Out-Null
        $claimed = Receive-TrainingJob -Database $asRole -WorkerId w1
        $claimed.JobId | Should -Be $job.JobId
        Write-TrainingJobLog -Database $asRole -Id $job.JobId -Message 'epoch 1'
        $claimed | Complete-TrainingJob
        (Get-TrainingJobLog -Database $asRole -Id $job.JobId).Message | Should -Be 'epoch 1'
        (Get-JobQueueStatistics -Database $asRole).Completed | Should -Be 1
        Remove-TrainingJob -Database $asRole -Id $job.JobId -Confirm:$false
        (Get-JobQueueStatistics -Database $asRole).Total | Should -Be 3
    }

    It 'tells a role without CREATE that the first initialisation needs one' {
        $db = New-PostgresTestDatabase
        $role = New-PostgresTestRole -Prefix 'jq_ro'
        $err = $null
        try { Initialize-JobQueue -Database "$db;Username=$role" } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'PostgresPermissionDenied*'
        $err.CategoryInfo.Category | Should -Be 'WriteError'
        $err.Exception.Message | Should -Match 'CREATE'
    }
}

Describe 'Text that PostgreSQL cannot hold as it is' -ForEach @(Get-PostgresTestServer) {
    It 'keeps U+0000 and U+FDD0 in names, errors and logs exactly, through Copy-JobQueue both ways' {
        $db = New-PostgresTestDatabase
        $name = "a$([char]0)b$([char]0xFDD0)c"
        $job = Submit-TrainingJob -Database $db -Type training -Name $name
        $claimed = Receive-TrainingJob -Database $db -WorkerId "w$([char]0)1"
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message "line$([char]0)end"
        $claimed | Complete-TrainingJob -Failed -ErrorMessage "err$([char]0)" -RetryDelay 0
        $back = Get-TrainingJob -Database $db -Id $job.JobId
        $back.Name | Should -BeExactly $name
        $back.ErrorMessage | Should -BeExactly "err$([char]0)"
        (Get-TrainingJobLog -Database $db -Id $job.JobId).Message | Should -BeExactly "line$([char]0)end"
        (Get-TrainingJob -Database $db -Name "a$([char]0)b*").JobId | Should -Be $job.JobId
        $file = New-TestDatabase
        Copy-JobQueue -Database $db -Destination $file | Out-Null
        (Get-TrainingJob -Database $file -Id $job.JobId).Name | Should -BeExactly $name
        $again = New-PostgresTestDatabase
        Copy-JobQueue -Database $file -Destination $again | Out-Null
        (Get-TrainingJob -Database $again -Id $job.JobId).Name | Should -BeExactly $name
        (Get-TrainingJobLog -Database $again -Id $job.JobId).Message | Should -BeExactly "line$([char]0)end"
    }

    It 'stores ordinary text unchanged, as hand-written SQL reads it' {
        $db = New-PostgresTestDatabase
        $job = Submit-TrainingJob -Database $db -Type training -Name 'run 7 \%_ (final)'
        Invoke-TestPsql "SELECT name FROM jobs WHERE job_id = $($job.JobId)" -Database $db | Should -BeExactly 'run 7 \%_ (final)'
    }
}

Describe 'Statistics on PostgreSQL' -ForEach @(Get-PostgresTestServer) {
    It 'match the jobs table after any change, hand-written SQL included, and fold their counter rows' {
        $db = New-PostgresTestDatabase
        1..30 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training | Out-Null
        1..10 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type export | Out-Null
        $claimed = 1..8 | ForEach-Object { Receive-TrainingJob -Database $db -WorkerId w1 -Type training }
        $claimed | Select-Object -First 5 | Complete-TrainingJob
        Invoke-TestPsql "UPDATE jobs SET status = 'cancelled', completed_at = now() WHERE job_type = 'export' AND job_id % 2 = 0" -Database $db | Out-Null
        Invoke-TestPsql "DELETE FROM jobs WHERE job_type = 'export' AND status = 'pending' AND job_id % 3 = 0" -Database $db | Out-Null
        $actual = Invoke-TestPsql 'SELECT job_type, status, count(*) FROM jobs GROUP BY 1, 2 ORDER BY 1, 2' -Database $db
        $stats = Get-JobQueueStatistics -Database $db
        $fromStats = foreach ($t in $stats.ByType | Sort-Object JobType) {
            foreach ($status in 'cancelled', 'completed', 'failed', 'pending', 'running') {
                $n = $t.$status
                if ($n) { "$($t.JobType)`t$status`t$n" }
            }
        }
        $fromStats | Should -Be $actual
        $stats.Total | Should -Be ([int](Invoke-TestPsql 'SELECT count(*) FROM jobs' -Database $db))
        (Initialize-JobQueue -Database $db).Jobs | Should -Be $stats.Total
        [int](Invoke-TestPsql 'SELECT count(*) FROM job_counts' -Database $db) | Should -Be @($actual).Count -Because 'reading the statistics folds the appended changes into one row per type and status'
    }
}

Describe 'Claiming on PostgreSQL' -ForEach @(Get-PostgresTestServer) {
    It 'reads the first entry of the claim index right after a large batch, instead of sorting every pending job' {
        $db = New-PostgresTestDatabase
        1..5000 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training | Out-Null
        $plan = (Invoke-TestPsql ("EXPLAIN SELECT job_id FROM jobs WHERE status = 'pending' AND (not_before IS NULL OR not_before <= now()) " +
                "AND gpu_count <= 2147483647 ORDER BY priority DESC, job_id LIMIT 1 FOR UPDATE SKIP LOCKED") -Database $db) -join "`n"
        $plan | Should -Match 'Index Scan using ix_jobs_claim'
        $plan | Should -Not -Match 'Sort'
    }

    It 'keeps statistics exact while workers complete each job and claim the next in one statement' {
        $db = New-PostgresTestDatabase
        1..30 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training | Out-Null
        1..10 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type export | Out-Null
        $done = @(Start-JobWorker -Database $db -ExitWhenEmpty -Type training -Handler @{ training = { 'ok' } })
        $done.Count | Should -Be 30
        $stats = Get-JobQueueStatistics -Database $db
        $stats.Completed | Should -Be 30
        $stats.Pending | Should -Be 10
        $stats.Running | Should -Be 0
        Invoke-TestPsql "SELECT status, count(*) FROM jobs GROUP BY 1 ORDER BY 1" -Database $db | Should -Be "completed`t30", "pending`t10"
    }
}

Describe 'Claiming on PostgreSQL from many processes' -ForEach @(Get-PostgresTestServer) {
    It 'gives each job to exactly one of 6 concurrent claimer processes (SKIP LOCKED)' {
        $db = New-PostgresTestDatabase
        $drain = Invoke-Drain -Database $db -Claimers 6 -Jobs 600
        $drain.Claims.Count | Should -Be 600
        @($drain.Claims.JobId | Sort-Object -Unique).Count | Should -Be 600
        @($drain.Claims | Where-Object Attempt -NE 1).Count | Should -Be 0
        $stats = Get-JobQueueStatistics -Database $db
        $stats.Completed | Should -Be 600
        $stats.Total | Should -Be 600
    }

    It 'gives each job to exactly one of 8 threads sharing one connection pool in one process' {
        $db = New-PostgresTestDatabase
        1..400 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training | Out-Null
        $module = (Resolve-Path (Join-Path $PSScriptRoot '../JobQueue.psd1')).Path
        $claims = 1..8 | ForEach-Object -ThrottleLimit 8 -Parallel {
            Import-Module $using:module
            while ($job = Receive-TrainingJob -Database $using:db -WorkerId "thread-$_") {
                $job | Complete-TrainingJob
                $job.JobId
            }
        }
        $claims.Count | Should -Be 400
        @($claims | Sort-Object -Unique).Count | Should -Be 400
        (Get-JobQueueStatistics -Database $db).Completed | Should -Be 400
    }
}

Describe 'Backup-JobQueue of a PostgreSQL queue' -ForEach @(Get-PostgresTestServer) {
    It 'writes an SQLite file with the same jobs and logs' {
        $db = New-PostgresTestDatabase
        $job = Submit-TrainingJob -Database $db -Type training -Config @{ epochs = 5 } -Name nightly
        Write-TrainingJobLog -Database $db -Id $job.JobId -Message 'queued'
        $file = Join-Path (Split-Path (New-TestDatabase)) 'backup.db'
        (Backup-JobQueue -Database $db -Destination $file).FullName | Should -Be $file
        $copy = Get-TrainingJob -Database $file -Id $job.JobId
        $copy.Name | Should -Be 'nightly'
        $copy.Config.epochs | Should -Be 5
        $copy.CreatedAt | Should -Be $job.CreatedAt
        (Get-TrainingJobLog -Database $file -Id $job.JobId).Message | Should -Be 'queued'
    }
}
