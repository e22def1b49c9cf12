# The short chaos run (tools/Chaos.ps1): about a minute of workers, a scheduler, a submitter and a
# cancelling user on one queue while workers and trainers are SIGKILLed; every invariant must hold.
# It runs on each backend: on PostgreSQL in a new database of the test run's server.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'Chaos run on <_>' -ForEach (Get-TestBackend) -Skip:(-not $IsLinux) {
    BeforeAll {
        $Backend = $_
        . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
        $out = Join-Path ([IO.Path]::GetTempPath()) ("jq-chaos-test-" + [guid]::NewGuid().ToString('N').Substring(0, 12))
        New-Item -ItemType Directory -Force $out | Out-Null
        $launcher = Get-PwshLauncher
        $psi = [Diagnostics.ProcessStartInfo]::new($launcher[0])
        foreach ($a in ($launcher | Select-Object -Skip 1)) { $psi.ArgumentList.Add($a) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', (Join-Path $script:RepoRoot 'tools/Chaos.ps1'),
            '-Minutes', '1', '-Seed', '7', '-Backend', $Backend, '-OutFolder', $out) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $run = [Diagnostics.Process]::Start($psi)
        $stderr = $run.StandardError.ReadToEndAsync()
        $stdout = $run.StandardOutput.ReadToEndAsync()
        # Generous: the run is a minute, the wind-down and drain can take several on a loaded machine.
        if (-not $run.WaitForExit(20 * 60 * 1000)) { $run.Kill($true); throw 'The chaos run did not finish within 20 minutes.' }
        $run.WaitForExit()
        $output = $stdout.Result + $stderr.Result
        $summaryPath = Join-Path $out 'summary.json'
        $summary = if (Test-Path $summaryPath) { Get-Content $summaryPath -Raw | ConvertFrom-Json } else { $null }
    }

    AfterAll {
        if ($out) { Remove-Item -Recurse -Force $out -ErrorAction Ignore }
    }

    It 'finishes with exit code 0 and writes its summary' {
        $run.ExitCode | Should -Be 0 -Because $output
        $summary | Should -Not -BeNullOrEmpty -Because $output
        Join-Path $out 'summary.md' | Should -Exist
    }

    It 'finds no violation of the invariants' {
        $summary.Backend | Should -Be $Backend
        $summary.Violations | Should -Be 0 -Because ($summary.ViolationDetails -join "`n")
        # PRAGMA integrity_check on SQLite, pg_amcheck on PostgreSQL.
        $summary.Integrity | Should -Be 'ok'
        # The statistics agree with COUNT(*), running jobs have leases, no log line is orphaned.
        $summary.Consistency | Should -Be 'ok'
        $summary.Pending + $summary.Running | Should -Be 0 -Because 'the drain leaves every job in a final state'
    }

    It 'really ran under faults: jobs and schedules ran, workers and trainers were killed, jobs were rescued' {
        $summary.Submitted | Should -BeGreaterThan 0
        $summary.Completed | Should -BeGreaterThan 0
        $summary.Attempts | Should -BeGreaterThan $summary.Jobs -Because 'kills, failures and restarts add attempts'
        $summary.WorkerKills | Should -BeGreaterThan 0
        $summary.Rescues | Should -BeGreaterThan 0 -Because 'killed workers held jobs whose leases were rescued'
        $summary.Cancels + $summary.Restarts | Should -BeGreaterThan 0
    }
}
