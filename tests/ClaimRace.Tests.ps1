# The claim race: separate pwsh processes drain one queue through Receive-TrainingJob and
# Complete-TrainingJob at the same time. Each job must be claimed and completed exactly once.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

AfterAll { Remove-TestFolders }

Describe 'Claim race between processes (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        $jobCount = 2000
        $processCount = 8
        $db = New-TestDatabase -Backend $backend
        $folder = New-TestFolder
        $submitted = 1..$jobCount | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training

        # Each process says it is ready, waits for the starting signal so that all of them race,
        # then claims until the queue is empty, writing down every claim it got.
        $workers = foreach ($i in 1..$processCount) {
            Start-Pwsh -OutputPath (Join-Path $folder "output-$i.txt") -Script @"
Set-Content -LiteralPath '$folder/ready-$i' -Value ready
while (-not (Test-Path -LiteralPath '$folder/go')) { Start-Sleep -Milliseconds 20 }
`$cpu = [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime
`$claims = [Collections.Generic.List[string]]::new()
while (`$job = Receive-TrainingJob -Database '$db' -WorkerId 'race-$i') {
    `$claims.Add("`$(`$job.JobId),`$(`$job.Attempt)")
    `$job | Complete-TrainingJob
}
Set-Content -LiteralPath '$folder/claims-$i.txt' -Value `$claims
`$end = [DateTime]::UtcNow.Ticks
`$cpu = ([Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime - `$cpu).TotalSeconds
Set-Content -LiteralPath '$folder/done-$i.txt' -Value "`$end,`$cpu"
"@
        }
        try {
            Wait-Until { @(Get-ChildItem $folder -Filter 'ready-*').Count -eq $processCount -or @($workers | Where-Object HasExited).Count } -TimeoutSeconds 300 -Because "$processCount pwsh processes to start"
            $go = [DateTime]::UtcNow
            Set-Content -LiteralPath (Join-Path $folder 'go') -Value go
            foreach ($w in $workers) {
                if (-not $w.WaitForExit(300000)) { throw 'A racing process did not finish within 5 minutes.' }
            }
        }
        finally {
            foreach ($w in $workers) { if (-not $w.HasExited) { $w.Kill($true) } }
        }

        $claims = foreach ($i in 1..$processCount) {
            $file = Join-Path $folder "claims-$i.txt"
            if (Test-Path $file) {
                foreach ($line in Get-Content -LiteralPath $file) {
                    $id, $attempt = $line -split ','
                    [pscustomobject]@{ JobId = [long]$id; Attempt = [int]$attempt; WorkerId = "race-$i" }
                }
            }
        }
        # Each process wrote when it finished and the CPU time it spent draining.
        $done = Get-ChildItem $folder -Filter 'done-*.txt' | ForEach-Object {
            $end, $cpu = (Get-Content -LiteralPath $_.FullName) -split ','
            [pscustomobject]@{ End = [long]$end; Cpu = [double]$cpu }
        }
        $seconds = if ($done) { ([DateTime]::new(($done.End | Measure-Object -Maximum).Maximum, 'Utc') - $go).TotalSeconds } else { 0 }
        $cpuSeconds = ($done.Cpu | Measure-Object -Sum).Sum
        $perProcess = $claims | Group-Object WorkerId | Sort-Object Name | ForEach-Object { "$($_.Name)=$($_.Count)" }
        Write-Host ('Claim race ({0}): {1} jobs, {2} pwsh processes, drained in {3:N1} s = {4:N0} jobs/s (claim + complete each), {5:N1} CPU-s in the racers, load average {6}; per process: {7}' -f
            $backend, $jobCount, $processCount, $seconds, ($(if ($seconds -gt 0) { $jobCount / $seconds } else { 0 })), $cpuSeconds,
            $(if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg).Split(' ')[0] } else { 'n/a' }), ($perProcess -join ', '))
    }

    It 'ran every process to a clean end' {
        foreach ($i in 1..$processCount) {
            $output = Get-Content -Raw -LiteralPath (Join-Path $folder "output-$i.txt") -ErrorAction Ignore
            $workers[$i - 1].ExitCode | Should -Be 0 -Because "process $i said: $output"
        }
    }

    It 'claimed every job exactly once, none lost' {
        $claims.Count | Should -Be $jobCount
        ($claims.JobId | Sort-Object -Unique).Count | Should -Be $jobCount
        Compare-Object ($claims.JobId | Sort-Object) ($submitted.JobId | Sort-Object) | Should -BeNullOrEmpty
        $claims.Attempt | Sort-Object -Unique | Should -Be 1 -Because 'a job claimed twice would show a second attempt'
    }

    It 'completed every job once, by the process that claimed it' {
        $stats = Get-JobQueueStatistics -Database $db
        $stats.Completed | Should -Be $jobCount
        $stats.Pending | Should -Be 0
        $stats.Running | Should -Be 0
        $stats.Total | Should -Be $jobCount
        $claimedBy = @{}
        foreach ($c in $claims) { $claimedBy[$c.JobId] = $c.WorkerId }
        $wrong = Get-TrainingJob -Database $db | Where-Object { $_.Status -ne 'Completed' -or $_.Attempt -ne 1 -or $_.WorkerId -ne $claimedBy[$_.JobId] }
        $wrong | Should -BeNullOrEmpty
    }

    It 'shared the work between the processes' {
        @($claims.WorkerId | Sort-Object -Unique).Count | Should -BeGreaterThan 1
    }
}
