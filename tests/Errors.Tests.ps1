# SPEC section 5: every bad input gets an error record with a stable FullyQualifiedErrorId and the
# right ErrorCategory, and the queue is left exactly as it was.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')

    $badInputs = @(
        @{ Case = 'priority 0'; Id = 'InvalidPriority'; Category = 'InvalidArgument'; Run = { Submit-TrainingJob -Database $db -Type training -Priority 0 } }
        @{ Case = 'priority 11'; Id = 'InvalidPriority'; Category = 'InvalidArgument'; Run = { Submit-TrainingJob -Database $db -Type training -Priority 11 } }
        @{ Case = 'priority -3, piped'; Id = 'InvalidPriority'; Category = 'InvalidArgument'; Run = { @{ a = 1 }, @{ a = 2 } | Submit-TrainingJob -Database $db -Type training -Priority -3 } }
        @{ Case = 'a job type with a space'; Id = 'InvalidJobType'; Category = 'InvalidArgument'; Run = { Submit-TrainingJob -Database $db -Type 'fine tune' } }
        @{ Case = 'a job type starting with a digit'; Id = 'InvalidJobType'; Category = 'InvalidArgument'; Run = { Submit-TrainingJob -Database $db -Type '1training' } }
        @{ Case = 'a job type of 65 characters'; Id = 'InvalidJobType'; Category = 'InvalidArgument'; Run = { Submit-TrainingJob -Database $db -Type ('t' * 65) } }
        @{ Case = 'a bad job type to Receive'; Id = 'InvalidJobType'; Category = 'InvalidArgument'; Run = { Receive-TrainingJob -Database $db -WorkerId w -Type 'a/b' } }
        @{ Case = 'a bad job type to Get-TrainingJob'; Id = 'InvalidJobType'; Category = 'InvalidArgument'; Run = { Get-TrainingJob -Database $db -Type 'drop table' } }
        @{ Case = 'a bad job type to statistics'; Id = 'InvalidJobType'; Category = 'InvalidArgument'; Run = { Get-JobQueueStatistics -Database $db -Type '%' } }
        @{ Case = 'negative MaxRetries'; Id = 'InvalidMaxRetries'; Category = 'InvalidArgument'; Run = { Submit-TrainingJob -Database $db -Type training -MaxRetries -1 } }
        @{ Case = 'a negative GpuCount'; Id = 'InvalidArgument'; Category = 'InvalidArgument'; Run = { Submit-TrainingJob -Database $db -Type training -GpuCount -1 } }
        @{ Case = 'a zero Timeout'; Id = 'InvalidArgument'; Category = 'InvalidArgument'; Run = { Submit-TrainingJob -Database $db -Type training -Timeout 0 } }
        @{ Case = 'config text that is not JSON'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -Config '{"epochs": 10' } }
        @{ Case = 'config with single quotes'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -Config "{'epochs': 10}" } }
        @{ Case = 'a JSON array as config'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -Config '[1, 2]' } }
        @{ Case = 'a JSON number as config'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -Config '42' } }
        @{ Case = 'a JSON string as config'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -Config '"epochs"' } }
        @{ Case = 'a number as config'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -Config 42 } }
        @{ Case = 'an array as config'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -Config @(1, 2) } }
        @{ Case = 'NaN in a config hashtable'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -Config @{ lr = [double]::NaN } } }
        @{ Case = 'Infinity nested in a config'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -Config @{ opt = @{ clip = @(1, [double]::PositiveInfinity) } } } }
        @{ Case = 'NaN in config text'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -Config '{"lr": NaN}' } }
        @{ Case = 'a config file that is not JSON'; Id = 'InvalidConfig'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -ConfigPath $badConfigFile } }
        @{ Case = 'a missing config file'; Id = 'ConfigFileUnreadable'; Category = 'InvalidData'; Run = { Submit-TrainingJob -Database $db -Type training -ConfigPath (Join-Path $folder 'missing.json') } }
        @{ Case = 'an unknown id to Get-TrainingJob'; Id = 'JobNotFound'; Category = 'ObjectNotFound'; Run = { Get-TrainingJob -Database $db -Id 424242 } }
        @{ Case = 'an unknown id to Stop-TrainingJob'; Id = 'JobNotFound'; Category = 'ObjectNotFound'; Run = { Stop-TrainingJob -Database $db -Id 424242 } }
        @{ Case = 'an unknown id to Restart-TrainingJob'; Id = 'JobNotFound'; Category = 'ObjectNotFound'; Run = { Restart-TrainingJob -Database $db -Id 424242 } }
        @{ Case = 'an unknown id to Remove-TrainingJob'; Id = 'JobNotFound'; Category = 'ObjectNotFound'; Run = { Remove-TrainingJob -Database $db -Id 424242 -Confirm:$false } }
        @{ Case = 'an unknown id to Complete-TrainingJob'; Id = 'JobNotFound'; Category = 'ObjectNotFound'; Run = { Complete-TrainingJob -Database $db -Id 424242 } }
        @{ Case = 'an unknown id to Wait-TrainingJob'; Id = 'JobNotFound'; Category = 'ObjectNotFound'; Run = { Wait-TrainingJob -Database $db -Id 424242 -Timeout 00:00:05 } }
        @{ Case = 'an unknown id to Write-TrainingJobLog'; Id = 'JobNotFound'; Category = 'ObjectNotFound'; Run = { Write-TrainingJobLog -Database $db -Id 424242 -Message x } }
        @{ Case = 'an unknown id to Get-TrainingJobLog'; Id = 'JobNotFound'; Category = 'ObjectNotFound'; Run = { Get-TrainingJobLog -Database $db -Id 424242 } }
        @{ Case = 'cancelling a completed job'; Id = 'JobAlreadyFinished'; Category = 'InvalidOperation'; Run = { Stop-TrainingJob -Database $db -Id $completed.JobId } }
        @{ Case = 'cancelling a failed job'; Id = 'JobAlreadyFinished'; Category = 'InvalidOperation'; Run = { Stop-TrainingJob -Database $db -Id $failed.JobId } }
        @{ Case = 'cancelling a cancelled job'; Id = 'JobAlreadyFinished'; Category = 'InvalidOperation'; Run = { Stop-TrainingJob -Database $db -Id $cancelled.JobId } }
        @{ Case = 'a backup onto an existing file'; Id = 'DestinationExists'; Category = 'ResourceExists'; Run = { Backup-JobQueue -Database $db -Destination $badConfigFile } }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

AfterAll { Remove-TestFolders }

Describe 'Bad input changes nothing (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        $db = New-TestDatabase -Backend $backend
        $folder = New-TestFolder
        $badConfigFile = Join-Path $folder 'bad.json'
        Set-Content -LiteralPath $badConfigFile -Value '{"epochs": 10,}'
        # One job in each state, with logs, so that any stray change shows up in the snapshot.
        $completed = Submit-TrainingJob -Database $db -Type training -Priority 9
        Receive-TrainingJob -Database $db -WorkerId w | Complete-TrainingJob
        $failed = Submit-TrainingJob -Database $db -Type training -Priority 8 -MaxRetries 0
        Receive-TrainingJob -Database $db -WorkerId w | Complete-TrainingJob -Failed -ErrorMessage 'boom'
        $cancelled = Submit-TrainingJob -Database $db -Type evaluation | Stop-TrainingJob -PassThru
        $running = Submit-TrainingJob -Database $db -Type export -Priority 7
        Receive-TrainingJob -Database $db -WorkerId w | Out-Null
        $pending = Submit-TrainingJob -Database $db -Type training -Config @{ lr = 5e-5 }
        Write-TrainingJobLog -Database $db -Id $completed.JobId -Message 'done'
        Write-TrainingJobLog -Database $db -Id $running.JobId -Message 'step 1' -Level Warning
        $snapshot = Get-QueueSnapshot $db
    }

    It 'refuses <Case> with <Id> (<Category>)' -ForEach $badInputs {
        $err = Get-ThrownError { & $Run -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike "$Id,JobQueue.Commands.*"
        $err.CategoryInfo.Category | Should -Be $Category
        $err.Exception.Message | Should -Not -BeNullOrEmpty
        $err.Exception.Message | Should -Not -Match '\bat JobQueue\.|   at ' -Because 'a user mistake gets a message, not a stack trace'
        Get-QueueSnapshot $db | Should -Be $snapshot
    }

    It 'names the offending job id as the error''s target' {
        $err = Get-ThrownError { Stop-TrainingJob -Database $db -Id 424242 -ErrorAction Stop }
        $err.TargetObject | Should -Be 424242
        $err.Exception.Message | Should -Match '424242'
    }

    It 'shows a user mistake in another process as one clear line, without a stack trace' {
        $r = Invoke-Pwsh "Submit-TrainingJob -Database '$db' -Type training -Priority 11"
        $r.ExitCode | Should -Not -Be 0
        $r.Error | Should -Match 'Priority 11 is out of range; use 1 \(lowest\) to 10 \(highest\)'
        $r.Error | Should -Not -Match '   at '
        Get-QueueSnapshot $db | Should -Be $snapshot
    }
}

Describe 'Errors in a pipeline (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach { $db = New-TestDatabase -Backend $backend }

    It 'keeps per-item pipeline errors non-terminating, so the other items go on' {
        $a = Submit-TrainingJob -Database $db -Type training
        $b = Submit-TrainingJob -Database $db -Type training
        $a.JobId, 424242, $b.JobId | Stop-TrainingJob -Database $db -ErrorAction SilentlyContinue -ErrorVariable errors
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'JobNotFound,*'
        (Get-TrainingJob -Database $db -Id $a.JobId, $b.JobId).Status | Sort-Object -Unique | Should -Be 'Cancelled'
    }

    It 'stops at the first bad item with -ErrorAction Stop' {
        $a = Submit-TrainingJob -Database $db -Type training
        $b = Submit-TrainingJob -Database $db -Type training
        $err = Get-ThrownError { $a.JobId, 424242, $b.JobId | Stop-TrainingJob -Database $db -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'JobNotFound,*'
        (Get-TrainingJob -Database $db -Id $a.JobId).Status | Should -Be 'Cancelled'
        (Get-TrainingJob -Database $db -Id $b.JobId).Status | Should -Be 'Pending'
    }

    It 'submits the good piped configs and reports the bad one' {
        $jobs = @{ n = 1 }, '{"n": oops}', @{ n = 3 } | Submit-TrainingJob -Database $db -Type training -ErrorAction SilentlyContinue -ErrorVariable errors
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidConfig,*'
        $jobs.Count | Should -Be 2
        (Get-TrainingJob -Database $db -Id $jobs.JobId).Config.n | Sort-Object | Should -Be @(1, 3)
    }

    It 'submits neither the bad piped config nor those after it with -ErrorAction Stop' {
        $err = Get-ThrownError { @{ n = 1 }, @{ n = [double]::NaN }, @{ n = 3 } | Submit-TrainingJob -Database $db -Type training -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidConfig,*'
        Get-TrainingJob -Database $db | Where-Object { $_.Config.n -ne 1 } | Should -BeNullOrEmpty
    }
}

Describe 'Database files that cannot be used (<_>)' -ForEach (Get-SqliteBackend) {
    BeforeAll {
        $folder = New-TestFolder
        function Assert-DatabaseError($ErrorRecord, [string] $Id, [string] $Category) {
            $ErrorRecord.FullyQualifiedErrorId | Should -BeLike "$Id,JobQueue.Commands.*"
            $ErrorRecord.CategoryInfo.Category | Should -Be $Category
            $ErrorRecord.Exception.Message | Should -Not -Match '   at '
        }
    }

    It 'refuses a path below a regular file with DatabaseNotWritable, creating nothing' {
        # Tests may run as root, for whom permissions are no obstacle; a file used as a folder is.
        $file = Join-Path $folder 'plain.txt'
        Set-Content -LiteralPath $file -Value 'not a folder'
        $db = Join-Path $file 'sub/jobs.db'
        foreach ($command in { Submit-TrainingJob -Database $db -Type training }, { Get-TrainingJob -Database $db }, { Initialize-JobQueue -Database $db }) {
            Assert-DatabaseError (Get-ThrownError $command) 'DatabaseNotWritable' 'WriteError'
        }
        (Get-Content -LiteralPath $file) | Should -Be 'not a folder'
        Get-ChildItem $folder | Should -HaveCount 1
    }

    It 'refuses a folder as the database with DatabaseNotWritable' {
        $dir = Join-Path $folder 'a-folder'
        New-Item -ItemType Directory $dir | Out-Null
        Assert-DatabaseError (Get-ThrownError { Get-JobQueueStatistics -Database $dir }) 'DatabaseNotWritable' 'WriteError'
        Get-ChildItem $dir | Should -BeNullOrEmpty
    }

    It 'refuses a file of random bytes with NotAJobQueueDatabase and leaves it untouched' {
        $file = Join-Path $folder 'random.db'
        $bytes = [byte[]]::new(8192)
        [Random]::new(42).NextBytes($bytes)
        [IO.File]::WriteAllBytes($file, $bytes)
        Assert-DatabaseError (Get-ThrownError { Submit-TrainingJob -Database $file -Type training }) 'NotAJobQueueDatabase' 'InvalidData'
        Assert-DatabaseError (Get-ThrownError { Get-TrainingJob -Database $file }) 'NotAJobQueueDatabase' 'InvalidData'
        (Get-FileHash $file).Hash | Should -Be (Get-FileHash -InputStream ([IO.MemoryStream]::new($bytes))).Hash
        Get-ChildItem $folder -Filter 'random.db*' | Should -HaveCount 1
    }

    It 'refuses a text file with NotAJobQueueDatabase and leaves it untouched' {
        $file = Join-Path $folder 'notes.db'
        Set-Content -LiteralPath $file -Value 'my notes'
        Assert-DatabaseError (Get-ThrownError { Initialize-JobQueue -Database $file }) 'NotAJobQueueDatabase' 'InvalidData'
        Get-Content -LiteralPath $file | Should -Be 'my notes'
    }

    It 'refuses another program''s SQLite database with NotAJobQueueDatabase and leaves it untouched' {
        $file = Join-Path $folder 'foreign.db'
        Invoke-Sqlite $file "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO people (name) VALUES ('ada'), ('alan');" | Out-Null
        $hash = (Get-FileHash $file).Hash
        $err = Get-ThrownError { Submit-TrainingJob -Database $file -Type training }
        Assert-DatabaseError $err 'NotAJobQueueDatabase' 'InvalidData'
        $err.Exception.Message | Should -Match 'not a JobQueue database'
        Assert-DatabaseError (Get-ThrownError { Get-JobQueueStatistics -Database $file }) 'NotAJobQueueDatabase' 'InvalidData'
        (Get-FileHash $file).Hash | Should -Be $hash
        Invoke-Sqlite $file '.tables' | Should -Be 'people'
        Invoke-Sqlite $file 'PRAGMA user_version; PRAGMA journal_mode;' | Should -Be @('0', 'delete')
    }

    It 'refuses a queue from a newer JobQueue (schema version bumped) with SchemaTooNew, unmodified' {
        $original = New-TestDatabase -Backend $_
        Submit-TrainingJob -Database $original -Type training -Config @{ keep = 'me' } | Out-Null
        # A copy under a new name: this process has never opened it, as a fresh session would not have.
        $db = Join-Path $folder 'newer.db'
        Invoke-Sqlite $original ".backup '$db'" | Out-Null
        $version = [int](Invoke-Sqlite $db 'PRAGMA user_version')
        Invoke-Sqlite $db "PRAGMA user_version = $($version + 1)" | Out-Null
        $hash = (Get-FileHash $db).Hash

        $err = Get-ThrownError { Get-TrainingJob -Database $db }
        Assert-DatabaseError $err 'SchemaTooNew' 'InvalidData'
        $err.Exception.Message | Should -Match "schema version $($version + 1)"
        Assert-DatabaseError (Get-ThrownError { Submit-TrainingJob -Database $db -Type training }) 'SchemaTooNew' 'InvalidData'
        Assert-DatabaseError (Get-ThrownError { Initialize-JobQueue -Database $db }) 'SchemaTooNew' 'InvalidData'

        (Get-FileHash $db).Hash | Should -Be $hash
        Invoke-Sqlite $db 'PRAGMA user_version' | Should -Be "$($version + 1)"
        Invoke-Sqlite $db 'SELECT count(*) FROM jobs' | Should -Be '1'
    }
}
