#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The chaos run: workers, a scheduler, a submitter and a "user" on one queue (SQLite or
    PostgreSQL) while a killer SIGKILLs workers and trainers; then checks the queue's promises
    and writes a summary.

.DESCRIPTION
    Run it through build.ps1 (dotnet pwsh ./build.ps1 -Task Chaos -Minutes 1 -Seed 7
    [-Backend PostgreSQL]), which builds first and starts this script in a fresh pwsh. Linux only
    (/bin/sh trainers, SIGKILL). Exit code 0 when every invariant holds, 1 on any violation.

    On PostgreSQL the queue is a fresh database: on the server named by
    $env:JOBQUEUE_TEST_POSTGRES (an admin connection string; the test runner sets it) when set,
    else on a throwaway server started here (tools/TestPostgres.ps1) and stopped at the end,
    whatever happens.
#>
[CmdletBinding()]
param(
    [double] $Minutes = 1,
    [int] $Seed = 1,
    [ValidateSet('SQLite', 'PostgreSQL')]
    [string] $Backend = 'SQLite',
    [string] $ModulePath = (Join-Path (Split-Path $PSScriptRoot) 'JobQueue.psd1'),
    [string] $OutFolder = (Join-Path (Split-Path $PSScriptRoot) 'out/chaos'),
    [int] $Workers = 3
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
. (Join-Path $PSScriptRoot 'BuildSupport.ps1')
. (Join-Path $PSScriptRoot 'Chaos.Checks.ps1')
. (Join-Path $PSScriptRoot 'TestPostgres.ps1')
Import-Module $ModulePath

$rng = [Random]::new($Seed)
$work = Join-Path ([IO.Path]::GetTempPath()) "jobqueue-chaos-$([Guid]::NewGuid().ToString('n').Substring(0, 8))"
$attempts = Join-Path $work 'attempts'
$logs = Join-Path $work 'logs'
New-Item -ItemType Directory -Force $attempts, $logs, $OutFolder | Out-Null
$stopFile = Join-Path $work 'stop'
$submitted = Join-Path $work 'submitted.txt'
$userActions = Join-Path $work 'user-actions.txt'

# The queue. On PostgreSQL: a new database, on the test run's server or on a server of our own.
$server = $null
$pgBin = $null
$children = [Collections.Generic.List[Diagnostics.Process]]::new()
$exitCode = 1
try {
    if ($Backend -eq 'PostgreSQL') {
        $admin = $env:JOBQUEUE_TEST_POSTGRES
        $pgBin = $env:JOBQUEUE_TEST_POSTGRES_BIN
        if (-not $admin) {
            $server = Start-TestPostgres
            if (-not $server) { throw 'The chaos run on PostgreSQL needs a PostgreSQL server, and none could be started here (see above).' }
            $admin = $server.ConnectionString
            $pgBin = $server.Bin
        }
        if (-not $pgBin) { $pgBin = Find-PostgresBin }
        $db = New-PostgresDatabase $admin -Bin $pgBin -Prefix 'jq_chaos'
        $dbName = (Get-PostgresConnectionParts $db).Database
    } else {
        $db = Join-Path $work 'chaos.db'
    }
    Initialize-JobQueue -Database $db | Out-Null

    # The trainer: records its attempt (start, progress ticks, end) in a file of its own, writes N
    # numbered log lines, runs a short random time and sometimes fails. The ticks bound the end of
    # an attempt that was killed (no end record), so overlaps are still detected.
    $trainer = Join-Path $work 'trainer.sh'
    [IO.File]::WriteAllText($trainer, @'
#!/bin/sh
dir="$1"
r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
n=$((3 + r % 6))
ticks=$((2 + (r / 7) % 12))
fail=0
[ $((r % 5)) -eq 0 ] && fail=1
f="$dir/$JOBQUEUE_JOB_ID.$JOBQUEUE_ATTEMPT.$$"
echo "start $JOBQUEUE_JOB_ID $JOBQUEUE_ATTEMPT $(date +%s%N) $$ $n" >> "$f"
i=1
while [ $i -le $n ]; do echo "chaos line $i/$n"; i=$((i + 1)); done
t=0
while [ $t -lt $ticks ]; do sleep 0.2; echo "tick $(date +%s%N)" >> "$f"; t=$((t + 1)); done
echo "end $(date +%s%N) $fail" >> "$f"
exit $fail
'@)
    [IO.File]::SetUnixFileMode($trainer, [IO.UnixFileMode]'UserRead, UserWrite, UserExecute')

    $launcher = Get-PwshLauncher
    function Start-Child([string] $Name, [string] $Script) {
        # A pwsh process with the module imported; all its output goes to logs/<name>.log.
        $log = Join-Path $logs "$Name.log"
        $prelude = "`$ErrorActionPreference = 'Stop'; Import-Module '$ModulePath'; "
        $psi = [Diagnostics.ProcessStartInfo]::new($launcher[0])
        foreach ($a in ($launcher | Select-Object -Skip 1)) { $psi.ArgumentList.Add($a) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', "$prelude & { $Script } *>> '$log'") { $psi.ArgumentList.Add($a) }
        $psi.UseShellExecute = $false
        $child = [Diagnostics.Process]::Start($psi)
        $children.Add($child)
        $child
    }

    $workerArgs = "-Database '$db' -LeaseDuration 00:00:05 -GracePeriod 00:00:01 -RetryBackoff 00:00:00.2 -MaxConcurrent 2 -PollInterval 00:00:01 -Verbose"
    function Start-Worker([string] $Id) {
        [pscustomobject]@{ Id = $Id; Process = (Start-Child "worker-$Id" "Start-JobWorker -WorkerId '$Id' $workerArgs"); Started = [DateTime]::UtcNow }
    }

    $counts = [ordered]@{ WorkerKills = 0; TrainerKills = 0; WorkerRestartsSameId = 0; WorkerRestartsNewId = 0 }
    $startedAt = [DateTime]::UtcNow
    Write-Host "Chaos run: $Minutes minute(s), seed $Seed, $Workers workers, $Backend database $db"

    # Schedules that fire every minute, from now on.
    $schedules = 1..2 | ForEach-Object {
        New-JobSchedule -Database $db -Name "chaos-every-minute-$_" -Type training -Cron '* * * * *' -MaxRetries 2 `
            -Command '/bin/sh', $trainer, $attempts
    }

    $scheduler = Start-Child 'scheduler' "Start-JobScheduler -Database '$db' -Verbose"
    $submitter = Start-Child 'submitter' @"
`$rng = [Random]::new($($Seed + 1))
while (-not (Test-Path '$stopFile')) {
    try {
        `$job = Submit-TrainingJob -Database '$db' -Type training -MaxRetries (`$rng.Next(0, 4)) -Priority (`$rng.Next(1, 11)) -Config @{ seed = `$rng.Next() } -Command '/bin/sh', '$trainer', '$attempts'
        Add-Content '$submitted' `$job.JobId
    } catch { "submit failed: `$_" }
    Start-Sleep -Milliseconds (`$rng.Next(300, 1000))
}
"@
    $user = Start-Child 'user' @"
`$rng = [Random]::new($($Seed + 2))
while (-not (Test-Path '$stopFile')) {
    Start-Sleep -Milliseconds (`$rng.Next(1000, 3000))
    try {
        if (`$rng.Next(2) -eq 0) {
            `$live = @(Get-TrainingJob -Database '$db' -Status Pending, Running)
            if (`$live.Count) { `$id = `$live[`$rng.Next(`$live.Count)].JobId; Stop-TrainingJob -Database '$db' -Id `$id -ErrorAction Stop; Add-Content '$userActions' "cancel `$id `$([DateTime]::UtcNow.ToString('o'))" }
        } else {
            `$ended = @(Get-TrainingJob -Database '$db' -Status Failed, Cancelled)
            if (`$ended.Count) { `$id = `$ended[`$rng.Next(`$ended.Count)].JobId; Restart-TrainingJob -Database '$db' -Id `$id -ErrorAction Stop; Add-Content '$userActions' "restart `$id `$([DateTime]::UtcNow.ToString('o'))" }
        }
    } catch { "user action failed: `$_" }
}
"@

    $nextWorkerNumber = $Workers + 1
    $fleet = [Collections.Generic.List[object]]::new()
    1..$Workers | ForEach-Object { $fleet.Add((Start-Worker "w$_")) }

    # The killer: every few seconds SIGKILL a random worker that has been up a while (so it had
    # time to start and claim work on a slow machine) and start it again, under the same id or a new
    # one; sometimes SIGKILL a random trainer as well.
    $deadline = $startedAt.AddMinutes($Minutes)
    while ([DateTime]::UtcNow -lt $deadline) {
        Start-Sleep -Milliseconds ($rng.Next(3000, 7000))
        $ripe = @($fleet | Where-Object { ([DateTime]::UtcNow - $_.Started).TotalSeconds -ge 6 })
        if ($ripe.Count) {
            $victim = $ripe[$rng.Next($ripe.Count)]
            & /bin/kill -KILL $victim.Process.Id 2>$null
            $victim.Process.WaitForExit(30000) | Out-Null
            $counts.WorkerKills++
            $fleet.Remove($victim) | Out-Null
            if ($rng.Next(2) -eq 0) { $id = $victim.Id; $counts.WorkerRestartsSameId++ }
            else { $id = "w$nextWorkerNumber"; $nextWorkerNumber++; $counts.WorkerRestartsNewId++ }
            $fleet.Add((Start-Worker $id))
        }
        if ($rng.Next(3) -eq 0) {
            # Anchored: the submitter's own command line names the trainer too.
            $trainers = @(& pgrep -f -- "^/bin/sh $trainer " 2>$null)
            if ($trainers.Count) {
                & /bin/kill -KILL $trainers[$rng.Next($trainers.Count)] 2>$null
                if ($LASTEXITCODE -eq 0) { $counts.TrainerKills++ }
            }
        }
    }

    # Wind down gracefully: clients first, then the scheduler (SIGTERM), then the workers.
    Write-Host 'Stopping: submitter, user, scheduler, workers'
    New-Item -ItemType File $stopFile | Out-Null
    & /bin/kill -TERM $scheduler.Id 2>$null
    # A worker started moments ago may not have registered yet: give it time (a loaded machine
    # starts pwsh slowly), so that Stop-JobWorker reaches every one. Registered means the record
    # carries this process's id: a killed predecessor under the same id leaves a stale 'running'
    # record, and a stop request written to that record is reset when the new process registers.
    function Test-Registered($w) {
        $record = Get-JobWorker -Database $db -WorkerId $w.Id -ErrorAction Ignore
        $record -and $record.ProcessId -eq $w.Process.Id -and "$($record.State)" -eq 'Running'
    }
    $registerBy = [DateTime]::UtcNow.AddSeconds(90)
    while ([DateTime]::UtcNow -lt $registerBy -and @($fleet | Where-Object { -not $_.Process.HasExited -and -not (Test-Registered $_) }).Count) {
        Start-Sleep -Milliseconds 500
    }
    $registered = @($fleet | Where-Object { Test-Registered $_ })
    if ($registered.Count) { Stop-JobWorker -Database $db -WorkerId ($registered | ForEach-Object Id) -Wait -Timeout 120 -ErrorAction Continue | Out-Null }
    # SIGTERM (also a graceful stop) for any worker still up: one that never registered in time.
    $fleet | Where-Object { -not $_.Process.HasExited -and -not $_.Process.WaitForExit(5000) } | ForEach-Object { & /bin/kill -TERM $_.Process.Id 2>$null }
    foreach ($p in @($submitter, $user, $scheduler) + @($fleet | ForEach-Object Process)) {
        if (-not $p.WaitForExit(120000)) { Write-Warning "process $($p.Id) did not stop; killing it"; $p.Kill($true) }
    }

    # Drain: the leases of killed workers expire, a last worker rescues and runs everything left.
    Write-Host 'Draining the queue'
    for ($round = 0; $round -lt 20; $round++) {
        $left = @(Get-TrainingJob -Database $db -Status Pending, Running)
        if (-not $left.Count) { break }
        $drain = Start-Child "drain-$round" "Start-JobWorker -WorkerId drain -ExitWhenEmpty $workerArgs"
        if (-not $drain.WaitForExit(300000)) { $drain.Kill($true) }
        if (@(Get-TrainingJob -Database $db -Status Running).Count) { Start-Sleep -Seconds 6 }
    }

    $result = Test-ChaosInvariants -Database $db -AttemptsFolder $attempts -SubmittedFile $submitted `
        -UserActionsFile $userActions -Schedules $schedules -PostgresBin $pgBin
    $summary = [ordered]@{
        Backend = $Backend; Minutes = $Minutes; Seed = $Seed; Workers = $Workers
        StartedAt = $startedAt.ToString('o'); EndedAt = [DateTime]::UtcNow.ToString('o')
    }
    foreach ($k in $result.Figures.Keys) { $summary[$k] = $result.Figures[$k] }
    foreach ($k in $counts.Keys) { $summary[$k] = $counts[$k] }
    $summary.Violations = $result.Violations.Count
    $summary.ViolationDetails = @($result.Violations)
    $summary.WorkFolder = $work

    $summary | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $OutFolder 'summary.json')
    $md = @("# Chaos run summary", '', '| Figure | Value |', '| --- | --- |') +
        @($summary.Keys | Where-Object { $_ -ne 'ViolationDetails' } | ForEach-Object { "| $_ | $($summary[$_]) |" }) +
        @('', '## Violations', '') + @(if ($result.Violations.Count) { $result.Violations | ForEach-Object { "- $_" } } else { '- none' })
    $md | Set-Content (Join-Path $OutFolder 'summary.md')
    $md | Write-Host
    Write-Host "Summary: $(Join-Path $OutFolder 'summary.json')"

    if ($result.Violations.Count) {
        if ($Backend -eq 'PostgreSQL') {
            # The server may be thrown away below: keep the tables as CSV next to the attempt records.
            foreach ($table in 'jobs', 'job_logs', 'workers', 'schedules') {
                $rows = Invoke-ChaosSql $db "COPY (SELECT * FROM $table ORDER BY 1) TO STDOUT WITH (FORMAT csv, HEADER)" -PostgresBin $pgBin
                Set-Content (Join-Path $work "$table.csv") $rows
            }
        }
        Write-Host "Kept the work folder for inspection: $work"
    } else {
        Remove-Item -Recurse -Force $work -ErrorAction Ignore
        if ($Backend -eq 'PostgreSQL' -and -not $server) {
            # A clean run leaves nothing behind on the shared test server.
            Invoke-ChaosSql $admin "DROP DATABASE IF EXISTS $dbName WITH (FORCE)" -PostgresBin $pgBin | Out-Null
        }
        $exitCode = 0
    }
}
finally {
    # Whatever happened, no process of this run outlives it, and a server of our own is stopped.
    foreach ($child in $children) { if (-not $child.HasExited) { $child.Kill($true) } }
    if ($server) { Stop-TestPostgres $server }
}
exit $exitCode
