# Workers of several hosts on one PostgreSQL queue: each worker runs in a pwsh of its own inside
# a UTS namespace of its own (unshare --uts), so it has its own host name, as on separate GPU
# nodes. PostgreSQL-specific by nature (an SQLite file serves one machine); the namespaces need
# root on Linux, as CI runs the suite.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Postgres.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Postgres.Helpers.ps1')
    . (Join-Path $PSScriptRoot 'Worker.Helpers.ps1')

    function Start-PwshOnHost {
        # Starts pwsh with the module imported, under the host name $HostName, writing its console to $Log.
        param([Parameter(Mandatory)] [string] $HostName, [Parameter(Mandatory)] [string] $Script, [Parameter(Mandatory)] [string] $Log)
        $module = Join-Path $script:RepoRoot 'JobQueue.psd1'
        $body = "`$ErrorActionPreference = 'Stop'; Import-Module '$module'; & { $Script } *> '$Log'"
        $psi = [Diagnostics.ProcessStartInfo]::new('unshare')
        # unshare execs sh in the new namespace, and sh execs pwsh: the process started here is the worker.
        foreach ($a in @('--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', $HostName) + (Get-PwshLauncher) + @('-NoProfile', '-NonInteractive', '-Command', $body)) {
            $psi.ArgumentList.Add($a)
        }
        $psi.UseShellExecute = $false
        [Diagnostics.Process]::Start($psi)
    }
}

Describe 'Workers on several hosts sharing a PostgreSQL queue' -ForEach @(Get-PostgresTestServer) {
    BeforeAll {
        $probe = & unshare --uts -- sh -c 'hostname jq-probe && hostname' 2>&1
        if ("$probe" -ne 'jq-probe') { throw "The multi-host tests give each worker a host name of its own with 'unshare --uts', which needs root on Linux: $probe" }
    }

    It 'drain 600 jobs together, each exactly once, and rescue the job of a host that was lost' {
        $db = New-PostgresTestDatabase
        $dir = Join-Path $TestDrive 'hosts'
        New-Item -ItemType Directory $dir | Out-Null
        # Every job appends its id and the host it ran on; the long job blocks its first attempt.
        $handler = "@{ evaluation = { param(`$Job) [IO.File]::AppendAllText('$dir/ran-' + `$Job.WorkerId + '.txt', `"`$(`$Job.JobId) `$([Environment]::MachineName)``n`") }; " +
        "long = { param(`$Job) if (`$Job.Attempt -eq 1) { Start-Sleep 300 } else { [IO.File]::AppendAllText('$dir/long.txt', `"`$(`$Job.Attempt) `$([Environment]::MachineName)``n`") } } }"

        # The host that will be lost takes the long job, then dies with its worker (SIGKILL).
        $long = Submit-TrainingJob -Database $db -Type long -MaxRetries 2
        $lost = Start-PwshOnHost 'gpu-node-d' "Start-JobWorker -Database '$db' -WorkerId node-d -LeaseDuration 3 -Handler $handler -Verbose" (Join-Path $dir 'node-d.log')
        Wait-Until { (Get-TrainingJob -Database $db -Id $long.JobId).Status -eq 'Running' -or $lost.HasExited } -TimeoutSeconds 90 -Because 'the lost host to start the long job'
        $lost.HasExited | Should -BeFalse -Because (Get-Content (Join-Path $dir 'node-d.log') -Raw -ErrorAction Ignore)
        (Get-TrainingJob -Database $db -Id $long.JobId).HostName | Should -Be 'gpu-node-d'
        $lost.Kill()
        $lost.WaitForExit()
        Wait-Until { (Get-JobWorker -Database $db -WorkerId node-d).State -eq 'Lost' } -TimeoutSeconds 60 -Because 'the lease of the lost host to run out'

        $count = 600
        $ids = (1..$count | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type evaluation).JobId
        $hosts = 'gpu-node-a', 'gpu-node-b', 'gpu-node-c'
        $workers = foreach ($h in $hosts) {
            $id = $h -replace 'gpu-', ''
            Start-PwshOnHost $h "Start-JobWorker -Database '$db' -WorkerId $id -LeaseDuration 3 -ExitWhenEmpty -Handler $handler | Out-Null" (Join-Path $dir "$id.log")
        }
        try {
            foreach ($i in 0..2) {
                if (-not $workers[$i].WaitForExit(300000)) { throw "The worker on $($hosts[$i]) did not finish within 300 s." }
                $workers[$i].ExitCode | Should -Be 0 -Because (Get-Content (Join-Path $dir "$($hosts[$i] -replace 'gpu-', '').log") -Raw)
            }
        }
        finally {
            foreach ($w in $workers) { if (-not $w.HasExited) { $w.Kill() } }
        }

        # Exactly once across hosts, and each job ran on the host its worker reported.
        $ran = @(Get-ChildItem $dir -Filter 'ran-*.txt' | Get-Content)
        $ran.Count | Should -Be $count -Because 'no job ran twice'
        @($ran | ForEach-Object { ($_ -split ' ')[0] } | Sort-Object -Unique).Count | Should -Be $count -Because 'every job ran'
        $jobs = Get-TrainingJob -Database $db -Type evaluation
        @($jobs | Where-Object Status -NE 'Completed').Count | Should -Be 0
        foreach ($line in $ran | Select-Object -First 50) {
            $jobId, $ranOn = $line -split ' '
            ($jobs | Where-Object JobId -EQ ([long]$jobId)).HostName | Should -Be $ranOn
        }
        @($jobs.HostName | Sort-Object -Unique | Where-Object { $_ -notin $hosts }).Count | Should -Be 0
        Write-Host ('    jobs per host: ' + (($jobs | Group-Object HostName | Sort-Object Name | ForEach-Object { "$($_.Name) $($_.Count)" }) -join ', '))

        # The lost host's job came back from its expired lease and ran once more, elsewhere.
        $final = Get-TrainingJob -Database $db -Id $long.JobId
        $final.Status | Should -Be 'Completed'
        $final.Attempt | Should -Be 2
        $final.RetryCount | Should -Be 1
        $final.HostName | Should -BeIn $hosts
        Get-Content (Join-Path $dir 'long.txt') | Should -Be "2 $($final.HostName)"
        (Get-TrainingJobLog -Database $db -Id $long.JobId -Level Warning).Message | Should -BeLike "Rescued: worker 'node-d'*"

        # Get-JobWorker shows the workers of every host: three stopped, the killed one lost.
        $rows = Get-JobWorker -Database $db
        ($rows | Sort-Object WorkerId | ForEach-Object { "$($_.WorkerId) $($_.HostName) $($_.State)" }) |
            Should -Be @('node-a gpu-node-a Stopped', 'node-b gpu-node-b Stopped', 'node-c gpu-node-c Stopped', 'node-d gpu-node-d Lost')
        ($rows | Measure-Object JobsCompleted -Sum).Sum | Should -Be ($count + 1)
    }
}
