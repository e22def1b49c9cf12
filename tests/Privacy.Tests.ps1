# What jobs carry stays private: the SQLite file, its -wal/-shm and backups are owner-only on
# Unix; job configs, logs and error messages never show up in error records about a job; and a
# command is kept as an argument vector (the shell-injection table is CommandInjection.Cases.ps1).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'CommandInjection.Cases.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'HostileInput.Helpers.ps1')
    . (Join-Path $PSScriptRoot 'CommandInjection.Cases.ps1')
}

Describe 'Owner-only files on Unix' {
    It 'creates the database folder 0700 and the database, its -wal and -shm, and a backup 0600, even under umask 000' {
        $root = Join-Path ([IO.Path]::GetTempPath()) ('jq-private-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
        $db = Join-Path $root 'queue/jobs.db'
        $backup = Join-Path $root 'backups/nightly/b.db'
        # The modes are read while the connection is open: a clean close removes -wal and -shm.
        $script = "Submit-TrainingJob -Database '$db' -Type training -Config @{ token = 'x' } | Out-Null; " +
        "Backup-JobQueue -Database '$db' -Destination '$backup' | Out-Null; " +
        "foreach (`$p in '$(Split-Path $db)', '$db', '$db-wal', '$db-shm', '$(Split-Path $backup)', '$backup') { " +
        "'{0} {1}' -f `$p, [Convert]::ToString([int](Get-Item -LiteralPath `$p -Force).UnixFileMode, 8) }"
        $launcher = Get-PwshLauncher
        $module = Join-Path $RepoRoot 'JobQueue.psd1'
        $command = "umask 000; exec " + (($launcher + @('-NoProfile', '-NonInteractive', '-Command', "Import-Module '$module'; $script")) |
                ForEach-Object { "'" + $_.Replace("'", "'\''") + "'" }) -join ' '
        $output = & sh -c $command 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$output"
        $modes = @{}
        foreach ($line in $output) { $path, $mode = "$line".Trim() -split ' (?=\d+$)'; $modes[$path] = $mode }
        $modes[(Split-Path $db)] | Should -Be '700'
        $modes[$db] | Should -Be '600'
        $modes["$db-wal"] | Should -Be '600'
        $modes["$db-shm"] | Should -Be '600'
        $modes[(Split-Path $backup)] | Should -Be '700'
        $modes[$backup] | Should -Be '600'
        (Get-Item -LiteralPath $backup).UnixFileMode | Should -Be ([IO.UnixFileMode]'UserRead, UserWrite')
        Remove-Item -LiteralPath $root -Recurse -Force
    }
}

Describe 'Job configs, logs and error messages stay out of error records (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $Db = New-TestDatabase -Backend $_
        $Secrets = @{
            Config = 'cfg-secret-' + [guid]::NewGuid().ToString('N')
            Log    = 'log-secret-' + [guid]::NewGuid().ToString('N')
            Error  = 'err-secret-' + [guid]::NewGuid().ToString('N')
        }
        $secretJob = { param($type, $retries = 3) Submit-TrainingJob -Database $Db -Type $type -MaxRetries $retries -Config @{ api_token = $Secrets.Config; nested = @{ password = $Secrets.Config } } }
        $Jobs = @{}
        $Jobs.Pending = (& $secretJob privpending).JobId
        & $secretJob privrunning | Out-Null
        $Jobs.Running = (Receive-TrainingJob -Database $Db -Type privrunning -WorkerId 'owner').JobId
        & $secretJob privdone | Out-Null
        $Jobs.Completed = (Receive-TrainingJob -Database $Db -Type privdone -WorkerId 'owner').JobId
        Complete-TrainingJob -Database $Db -Id $Jobs.Completed
        & $secretJob privfailed 0 | Out-Null
        $Jobs.Failed = (Receive-TrainingJob -Database $Db -Type privfailed -WorkerId 'owner').JobId
        Complete-TrainingJob -Database $Db -Id $Jobs.Failed -Failed -ErrorMessage "stderr: $($Secrets.Error)"
        foreach ($id in $Jobs.Values) { Write-TrainingJobLog -Database $Db -Id $id -Message "loss 0.1 $($Secrets.Log)" }
        # A claim that went stale: the job was retried and claimed again since.
        & $secretJob privstale | Out-Null
        $Jobs.StaleClaim = Receive-TrainingJob -Database $Db -Type privstale -WorkerId 'owner'
        Complete-TrainingJob -Database $Db -Id $Jobs.StaleClaim.JobId -Failed -RetryDelay 0
        Receive-TrainingJob -Database $Db -Type privstale -WorkerId 'owner' | Out-Null
    }

    It '<Case> (<ErrorId>) shows none of the job''s config, log or error message' -ForEach @(
        @{ Case = 'cancelling a finished job'; ErrorId = 'JobAlreadyFinished'; Call = { Stop-TrainingJob -Database $Db -Id $Jobs.Completed } }
        @{ Case = 'cancelling a failed job'; ErrorId = 'JobAlreadyFinished'; Call = { Stop-TrainingJob -Database $Db -Id $Jobs.Failed } }
        @{ Case = 'restarting a pending job'; ErrorId = 'JobNotRestartable'; Call = { Restart-TrainingJob -Database $Db -Id $Jobs.Pending } }
        @{ Case = 'removing a running job'; ErrorId = 'JobIsRunning'; Call = { Remove-TrainingJob -Database $Db -Id $Jobs.Running -Confirm:$false } }
        @{ Case = 'completing a job nobody claimed'; ErrorId = 'JobNotOwned'; Call = { Complete-TrainingJob -Database $Db -Id $Jobs.Pending } }
        @{ Case = 'completing a job held by another worker'; ErrorId = 'JobNotOwned'; Call = { Complete-TrainingJob -Database $Db -Id $Jobs.Running -WorkerId 'intruder' } }
        @{ Case = 'completing with a wrong attempt'; ErrorId = 'JobNotOwned'; Call = { Complete-TrainingJob -Database $Db -Id $Jobs.Running -Attempt 99 -Failed } }
        @{ Case = 'completing a stale claim piped in (the object carries the config)'; ErrorId = 'JobNotOwned'; Call = { $Jobs.StaleClaim | Complete-TrainingJob } }
        @{ Case = 'completing a finished job'; ErrorId = 'JobNotOwned'; Call = { Complete-TrainingJob -Database $Db -Id $Jobs.Failed -Failed -ErrorMessage 'again' } }
        @{ Case = 'waiting past the timeout'; ErrorId = 'WaitTimeout'; Call = { Wait-TrainingJob -Database $Db -Id $Jobs.Pending -Timeout 0 } }
        @{ Case = 'a log line that cannot be stored'; ErrorId = 'InvalidText'; Call = { Write-TrainingJobLog -Database $Db -Id $Jobs.Running -Message ('a' + [char]0xD800) } }
        @{ Case = 'a retry delay that is negative'; ErrorId = 'InvalidRetryDelay'; Call = { Complete-TrainingJob -Database $Db -Id $Jobs.Running -Failed -RetryDelay '-0:0:1' } }
    ) {
        $result = Invoke-HostileCall $Call @()
        $result.Errors.Count | Should -BeGreaterThan 0
        foreach ($record in $result.Errors) {
            $record.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
            # Everything a user or a log collector could see of the record.
            $views = @(
                $record | Out-String
                $record | Format-List * -Force | Out-String
                $record.Exception | Format-List * -Force | Out-String
                $record.Exception.ToString()
                "$($record.ErrorDetails)"
                $record.TargetObject | Out-String
                $record.CategoryInfo.ToString()
            ) -join "`n"
            foreach ($secret in $Secrets.Values) { $views | Should -Not -Match $secret }
            $record.TargetObject | Should -Not -BeOfType ([type]'System.Collections.IDictionary')
        }
    }
}

Describe 'Commands are kept as argument vectors, never as shell text (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $Backend = $_
        $Db = New-TestDatabase -Backend $Backend
        $Marker = Join-Path ([IO.Path]::GetTempPath()) "jq-injected-$([guid]::NewGuid().ToString('N'))"
    }

    It 'stores the vector of <Name> exactly' -ForEach $CommandInjectionCases {
        $vector = [string[]](@('/usr/bin/env', 'printf', '%s\n') + (Expand-InjectionCase $Arguments $Marker))
        $job = Submit-TrainingJob -Database $Db -Type training -Command $vector
        Assert-Exact (Get-TrainingJob -Database $Db -Id $job.JobId).Command $vector 'the command read back'
        if ($Backend -eq 'SQLite') {
            $json = (Read-Sqlite3Texts $Db @("SELECT command AS v FROM jobs WHERE job_id = $($job.JobId)"))[0]
            $stored = [string[]](ConvertFrom-Json $json -NoEnumerate)
            Assert-Exact $stored $vector 'the command column, a JSON array with one element per argument'
        }
    }

    It 'stores the config of <Name> exactly' -ForEach $ConfigInjectionCases {
        $config = Expand-InjectionCase $Config $Marker
        $job = Submit-TrainingJob -Database $Db -Type training -Config $config
        $back = (Get-TrainingJob -Database $Db -Id $job.JobId).Config
        Assert-Exact ($back | ConvertTo-Json -Depth 10 -Compress) ($config | ConvertTo-Json -Depth 10 -Compress) 'the config read back'
    }
}
