# The SQLite file under storage faults: a full disk, a read-only file system or file, the file
# deleted or replaced under an open connection, a stale -wal left by a killed process. Each
# gives a clear error record or recovers, and no committed job is ever lost. SQLite-specific by
# nature; mounts small file systems, so it runs as root on Linux (as CI does).
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'HostileInput.Helpers.ps1')
    . (Join-Path $PSScriptRoot 'StorageFaults.Helpers.ps1')
}

Describe 'A database on a full disk' {
    BeforeAll {
        $Fs = Mount-SmallFileSystem -SizeKB 1024
        $Db = Join-Path $Fs.Path 'queue/jobs.db'
        $Filler = Join-Path $Fs.Path 'filler'
        # Committed before any fault, by another process (this one keeps no file open on the mount).
        $r = Invoke-Pwsh "1..20 | ForEach-Object { [ordered]@{ i = `$_; lr = 0.001 } } | Submit-TrainingJob -Database '$Db' -Type training | Out-Null; Write-TrainingJobLog -Database '$Db' -Id 1 -Message 'before the disk filled'"
        $r.ExitCode | Should -Be 0 -Because $r.Error
    }
    AfterAll { Dismount-SmallFileSystem $Fs }

    It 'refuses new jobs and log lines with DatabaseNotWritable while full, and takes them again once space is freed' {
        $steps = Invoke-FaultSteps @"
`$db = '$Db'
Step open { (Get-TrainingJob -Database `$db).Count }
Fill-Disk '$Filler'
Step single { Submit-TrainingJob -Database `$db -Type training -Name 'while full' -Config @{ pad = 'p' * 8000 } }
Step batch { 1..200 | ForEach-Object { @{ i = `$_; pad = 'p' * 100 } } | Submit-TrainingJob -Database `$db -Type training }
Step log { Write-TrainingJobLog -Database `$db -Id 1 -Message ('m' * 8000) }
Step read { (Get-TrainingJob -Database `$db).Count }
Remove-Item '$Filler'
Step after { (Submit-TrainingJob -Database `$db -Type training -Name 'after space was freed').JobId }
"@
        $steps.open.Output | Should -Be '20'
        foreach ($name in 'single', 'batch', 'log') {
            $steps[$name].Ok | Should -BeFalse -Because "'$name' cannot be written to a full disk"
            $steps[$name].Id | Should -BeLike 'DatabaseNotWritable,*'
            $steps[$name].Category | Should -Be 'WriteError'
            $steps[$name].Message | Should -Match 'is full; nothing was written'
        }
        $steps.read.Output | Should -Be '20' -Because 'the queue can still be read while the disk is full'
        $steps.after.Output | Should -Be '21'

        $jobs = Get-JobsSeenByAnotherProcess $Db
        $jobs.Count | Should -Be 21 -Because 'every committed job is kept, and nothing refused was half-written'
        $jobs[0] | Should -Be '1||{"i":1,"lr":0.001}'
        $jobs[19] | Should -Be '20||{"i":20,"lr":0.001}'
        $jobs[20] | Should -Be '21|after space was freed|{}'
        Invoke-Sqlite3 $Db 'PRAGMA integrity_check;' | Should -Be 'ok'
        Invoke-Sqlite3 $Db 'SELECT message FROM job_logs;' | Should -Be 'before the disk filled'
    }

    It 'gives the same clear error to a process that opens the database on a full disk' {
        $before = [int](Invoke-Sqlite3 $Db 'SELECT count(*) FROM jobs;')
        $steps = Invoke-FaultSteps @"
Fill-Disk '$Filler'
Step submit { Submit-TrainingJob -Database '$Db' -Type training -Name 'refused' }
Remove-Item '$Filler'
Step after { (Submit-TrainingJob -Database '$Db' -Type training -Name 'accepted').JobId }
"@
        $steps.submit.Ok | Should -BeFalse
        $steps.submit.Id | Should -BeLike 'DatabaseNotWritable,*'
        $steps.submit.Message | Should -Match 'is full'
        $steps.after.Output | Should -Be "$($before + 1)"
        (Get-JobsSeenByAnotherProcess $Db).Count | Should -Be ($before + 1)
        Invoke-Sqlite3 $Db 'PRAGMA integrity_check;' | Should -Be 'ok'
    }
}

Describe 'A read-only database' {
    BeforeAll {
        $Fs = Mount-SmallFileSystem -SizeKB 2048
        $Db = Join-Path $Fs.Path 'queue/jobs.db'
        $r = Invoke-Pwsh "1..10 | ForEach-Object { @{ i = `$_ } } | Submit-TrainingJob -Database '$Db' -Type training | Out-Null"
        $r.ExitCode | Should -Be 0 -Because $r.Error
    }
    AfterAll { Dismount-SmallFileSystem $Fs }

    It 'on a file system remounted read-only: DatabaseNotWritable that says why, and nothing lost' {
        Set-FileSystemReadOnly $Fs -ReadOnly
        try {
            $steps = Invoke-FaultSteps @"
Step submit { Submit-TrainingJob -Database '$Db' -Type training }
Step log { Write-TrainingJobLog -Database '$Db' -Id 1 -Message 'x' }
"@
        } finally {
            Set-FileSystemReadOnly $Fs
        }
        foreach ($name in 'submit', 'log') {
            $steps[$name].Ok | Should -BeFalse
            $steps[$name].Id | Should -BeLike 'DatabaseNotWritable,*'
            $steps[$name].Category | Should -Be 'WriteError'
            $steps[$name].Message | Should -Match 'Read-only file system|read-only'
        }
        (Get-JobsSeenByAnotherProcess $Db).Count | Should -Be 10
        Invoke-Sqlite3 $Db 'PRAGMA integrity_check;' | Should -Be 'ok'
    }

    It 'left with its -wal by a killed process, then read-only: jobs can still be read, a submit is refused' {
        $marker = Join-Path ([IO.Path]::GetTempPath()) "jq-ro-$([guid]::NewGuid()).txt"
        $p = Start-Pwsh "Submit-TrainingJob -Database '$Db' -Type training -Name 'in the wal' | Out-Null; Set-Content '$marker' done; Start-Sleep 120"
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not (Test-Path $marker) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            Test-Path $marker | Should -BeTrue
        } finally {
            $p.Kill(); $p.WaitForExit()
            Remove-Item $marker -ErrorAction Ignore
        }
        "$Db-wal" | Should -Exist
        Set-FileSystemReadOnly $Fs -ReadOnly
        try {
            $steps = Invoke-FaultSteps @"
Step read { (Get-TrainingJob -Database '$Db').Count }
Step submit { Submit-TrainingJob -Database '$Db' -Type training }
"@
        } finally {
            Set-FileSystemReadOnly $Fs
        }
        $steps.read.Output | Should -Be '11'
        $steps.submit.Ok | Should -BeFalse
        $steps.submit.Id | Should -BeLike 'DatabaseNotWritable,*'
        $steps.submit.Message | Should -Match 'read-only'
        (Get-JobsSeenByAnotherProcess $Db)[-1] | Should -Be '11|in the wal|{}'
    }

    It 'as an immutable file (chattr +i): DatabaseNotWritable, reads work, nothing lost' {
        & chattr +i $Db 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0 -Because 'chattr +i makes the file read-only even for root'
        try {
            $steps = Invoke-FaultSteps @"
Step read { (Get-TrainingJob -Database '$Db').Count }
Step submit { Submit-TrainingJob -Database '$Db' -Type training }
Step stop { Stop-TrainingJob -Database '$Db' -Id 1 }
"@
        } finally {
            & chattr -i $Db 2>&1 | Out-Null
        }
        $steps.read.Output | Should -Be '11'
        foreach ($name in 'submit', 'stop') {
            $steps[$name].Ok | Should -BeFalse
            $steps[$name].Id | Should -BeLike 'DatabaseNotWritable,*'
            $steps[$name].Message | Should -Match 'read-only'
        }
        (Get-JobsSeenByAnotherProcess $Db).Count | Should -Be 11
        Invoke-Sqlite3 $Db 'PRAGMA integrity_check;' | Should -Be 'ok'
    }
}

Describe 'The database file deleted or replaced under an open connection' {
    # This process keeps a connection per database (JobStores): the next call must notice.
    BeforeEach {
        $Db = New-TestDatabase
        1..3 | ForEach-Object { Submit-TrainingJob -Database $Db -Type training -Name "before $_" } | Out-Null
    }

    It 'puts a job submitted after the file was deleted into a fresh file that another process sees' {
        Remove-Item -LiteralPath $Db
        $job = Submit-TrainingJob -Database $Db -Type training -Name 'after the delete'
        $job.JobId | Should -Be 1 -Because 'a fresh file, not the deleted one, holds it'
        Get-JobsSeenByAnotherProcess $Db | Should -Be @('1|after the delete|{}')
    }

    It 'refuses a text file moved over the database with NotAJobQueueDatabase, and leaves it as it is' {
        $notes = Join-Path (Split-Path $Db) 'notes.txt'
        Set-Content -LiteralPath $notes 'my notes'
        Move-Item -LiteralPath $notes $Db -Force
        $result = Invoke-HostileCall { param($Db) Submit-TrainingJob -Database $Db -Type training } @(, $Db)
        $result.Errors.Count | Should -Be 1
        Assert-DocumentedError $result.Errors[0] 'NotAJobQueueDatabase' 'InvalidData'
        Get-Content -LiteralPath $Db | Should -Be 'my notes'
    }

    It 'refuses a file overwritten in place with NotAJobQueueDatabase, and writes nothing into it' {
        Set-Content -LiteralPath $Db 'overwritten in place'
        foreach ($attempt in 1, 2) {
            $result = Invoke-HostileCall { param($Db) Submit-TrainingJob -Database $Db -Type training } @(, $Db)
            Assert-DocumentedError $result.Errors[0] 'NotAJobQueueDatabase' 'InvalidData'
        }
        Get-Content -LiteralPath $Db | Should -Be 'overwritten in place'
        "$Db-wal" | Should -Not -Exist -Because 'the old log must not be paired with whatever is put there next'
        # Once the file is gone, a new queue starts clean at the same path.
        Remove-Item -LiteralPath $Db
        (Submit-TrainingJob -Database $Db -Type training).JobId | Should -Be 1
    }

    It 'sends the next job into a backup moved over the database (a restore), with the backup''s jobs intact' {
        $backup = Join-Path (Split-Path $Db) 'backup.db'
        Backup-JobQueue -Database $Db -Destination $backup | Out-Null
        4..5 | ForEach-Object { Submit-TrainingJob -Database $Db -Type training -Name "after the backup $_" } | Out-Null
        Move-Item -LiteralPath $backup $Db -Force
        (Submit-TrainingJob -Database $Db -Type training -Name 'after the restore').JobId | Should -Be 4
        Get-JobsSeenByAnotherProcess $Db | Should -Be @('1|before 1|{}', '2|before 2|{}', '3|before 3|{}', '4|after the restore|{}')
        Invoke-Sqlite3 $Db 'PRAGMA integrity_check;' | Should -Be 'ok'
    }

    It 'keeps every job in a database renamed away, and starts a fresh one at the old path' {
        $renamed = Join-Path (Split-Path $Db) 'renamed.db'
        Move-Item -LiteralPath $Db $renamed
        (Submit-TrainingJob -Database $Db -Type training -Name 'new queue').JobId | Should -Be 1
        Get-JobsSeenByAnotherProcess $renamed | Should -Be @('1|before 1|{}', '2|before 2|{}', '3|before 3|{}')
        Invoke-Sqlite3 $renamed 'PRAGMA integrity_check;' | Should -Be 'ok'
    }

    It 'lets a running process that keeps submitting follow the database to a fresh file when it is deleted' {
        $folder = Split-Path $Db
        $progress = Join-Path $folder 'progress.txt'
        $stop = Join-Path $folder 'stop'
        $p = Start-Pwsh "while (-not (Test-Path '$stop')) { Set-Content '$progress' (Submit-TrainingJob -Database '$Db' -Type training -Name loop).JobId; Start-Sleep -Milliseconds 50 }"
        try {
            $wait = { param($condition) $deadline = [DateTime]::UtcNow.AddSeconds(60); while (-not (& $condition) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }; & $condition }
            & $wait { [int](Get-Content $progress -ErrorAction Ignore) -ge 8 } | Should -BeTrue
            Remove-Item -LiteralPath $Db
            & $wait { $n = [int](Get-Content $progress -ErrorAction Ignore); $n -ge 3 -and $n -lt 8 } | Should -BeTrue -Because 'its next jobs start over in a fresh file'
            Set-Content $stop 'stop'
            $p.WaitForExit(60000) | Should -BeTrue
        } finally {
            if (-not $p.HasExited) { $p.Kill() }
        }
        $last = [int](Get-Content $progress)
        $jobs = Get-JobsSeenByAnotherProcess $Db
        $jobs.Count | Should -Be $last -Because 'every job it reported is in the file others see'
        Invoke-Sqlite3 $Db 'PRAGMA integrity_check;' | Should -Be 'ok'
    }
}

Describe 'A stale -wal left by a process killed in the middle of batch inserts' {
    It 'shows a new process whole batches only, every reported job, and an intact file' {
        $db = New-TestDatabase
        $reported = Join-Path (Split-Path $db) 'reported.txt'
        # Piped configs go in batches of 5,000, each one transaction; a job is reported after its batch commits.
        $p = Start-Pwsh "1..1000000 | ForEach-Object { @{ i = `$_ } } | Submit-TrainingJob -Database '$db' -Type training | ForEach-Object { if (`$_.JobId % 5000 -eq 0) { Set-Content '$reported' `$_.JobId } }"
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            while ([int](Get-Content $reported -ErrorAction Ignore) -lt 10000 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        } finally {
            $p.Kill()   # SIGKILL: no cleanup, no checkpoint
            $p.WaitForExit()
        }
        $committed = [int](Get-Content $reported)
        $committed | Should -BeGreaterOrEqual 10000
        "$db-wal" | Should -Exist
        (Get-Item "$db-wal").Length | Should -BeGreaterThan 0

        $r = Invoke-Pwsh "`$s = Get-JobQueueStatistics -Database '$db'; `$last = Get-TrainingJob -Database '$db' -First 1; '{0} {1}' -f `$s.Total, `$last.JobId"
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $total, $maxId = $r.Output.Trim() -split ' ' | ForEach-Object { [long]$_ }
        $total | Should -BeGreaterOrEqual $committed -Because 'every job reported as submitted is there'
        $total % 5000 | Should -Be 0 -Because 'a batch is all or nothing'
        $maxId | Should -Be $total -Because 'ids have no gaps'
        Invoke-Sqlite3 $db 'PRAGMA integrity_check;' | Should -Be 'ok'
        Invoke-Sqlite3 $db 'SELECT count(*) FROM jobs;' | Should -Be "$total"
    }
}
