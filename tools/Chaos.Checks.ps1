# The invariants of the chaos run (tools/Chaos.ps1). Dot-source it; the JobQueue module must be imported.

function Test-ChaosPostgres([string] $Database) { $Database -match '(?i)(^|;)\s*(Host|Server)\s*=' }

function Invoke-ChaosSql {
    # Runs SQL on the queue with the backend's own shell (sqlite3, or psql from $PostgresBin as
    # the connection string's user): a reader independent of the module. Rows come back as
    # tab-separated lines (wrap the call in @() for a list).
    param([Parameter(Mandatory)] [string] $Database, [Parameter(Mandatory)] [string] $Sql, [string] $PostgresBin)
    if (Test-ChaosPostgres $Database) { return Invoke-Psql $Database $Sql -Bin $PostgresBin | ForEach-Object { "$_" } }
    $out = & sqlite3 -batch -separator "`t" $Database $Sql 2>&1
    if ($LASTEXITCODE -ne 0) { throw "SQL on the chaos queue failed ($LASTEXITCODE): $out" }
    $out | ForEach-Object { "$_" }
}

function Test-ChaosStorage {
    # What a user would notice if the store were damaged, on either backend: the statistics
    # counters (kept by triggers) agree with a COUNT(*) of the jobs by type and status; every
    # running job has a worker and a lease; no log line belongs to a job that does not exist.
    # Returns the problems found (none: an empty list).
    param([Parameter(Mandatory)] [string] $Database, [string] $PostgresBin)
    $problems = [Collections.Generic.List[string]]::new()
    $counted = @{}
    foreach ($row in Invoke-ChaosSql $Database 'SELECT job_type, status, count(*) FROM jobs GROUP BY job_type, status' -PostgresBin $PostgresBin) {
        $type, $status, $n = $row -split "`t"
        $counted["$type/$status"] = [long]$n
    }
    $stats = Get-JobQueueStatistics -Database $Database
    foreach ($status in 'Pending', 'Running', 'Completed', 'Failed', 'Cancelled') {
        $n = ($counted.Keys | Where-Object { $_ -like "*/$($status.ToLowerInvariant())" } | ForEach-Object { $counted[$_] } | Measure-Object -Sum).Sum
        if ([long]$stats.$status -ne [long]$n) { $problems.Add("statistics say $($stats.$status) $status jobs, COUNT(*) says $n") }
    }
    $total = ($counted.Values | Measure-Object -Sum).Sum
    if ([long]$stats.Total -ne [long]$total) { $problems.Add("statistics say $($stats.Total) jobs in all, COUNT(*) says $total") }
    foreach ($t in $stats.ByType) {
        foreach ($status in 'Pending', 'Running', 'Completed', 'Failed', 'Cancelled') {
            $n = [long]$counted["$($t.JobType)/$($status.ToLowerInvariant())"]
            if ([long]$t.$status -ne $n) { $problems.Add("statistics say $($t.$status) $status jobs of type $($t.JobType), COUNT(*) says $n") }
        }
    }
    $unowned = @(Invoke-ChaosSql $Database "SELECT job_id FROM jobs WHERE status = 'running' AND (worker_id IS NULL OR lease_expires_at IS NULL)" -PostgresBin $PostgresBin)
    if ($unowned.Count) { $problems.Add("running jobs without a worker or lease: $($unowned -join ', ')") }
    $orphans = [long](Invoke-ChaosSql $Database 'SELECT count(*) FROM job_logs l WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.job_id = l.job_id)' -PostgresBin $PostgresBin | Select-Object -First 1)
    if ($orphans -ne 0) { $problems.Add("$orphans log lines belong to no job") }
    , $problems
}

function Test-ChaosIntegrity {
    # The backend's own check of its files: PRAGMA integrity_check on SQLite; on PostgreSQL
    # pg_amcheck (the amcheck extension: heap pages and B-tree indexes of the queue's database).
    param([Parameter(Mandatory)] [string] $Database, [string] $PostgresBin)
    if (-not (Test-ChaosPostgres $Database)) { return (& sqlite3 $Database 'PRAGMA integrity_check;') -join ' ' }
    $p = Get-PostgresConnectionParts $Database
    $out = & (Join-Path $PostgresBin 'pg_amcheck') -h $p.Host -p $p.Port -U $p.Username -d $p.Database --install-missing --heapallindexed 2>&1
    if ($LASTEXITCODE -eq 0 -and -not ($out -join '').Trim()) { return 'ok' }
    "pg_amcheck exit $LASTEXITCODE : $($out -join ' ')"
}

function Read-ChaosAttempts {
    # One record per attempt file: job, attempt, pid, start (ns), last seen (ns: end, else the last
    # tick, else start), exit (null when killed), log lines written (N).
    param([Parameter(Mandatory)] [string] $Folder)
    foreach ($file in Get-ChildItem $Folder -File) {
        $start = $null; $last = $null; $exit = $null
        foreach ($line in [IO.File]::ReadAllLines($file.FullName)) {
            $f = $line -split ' '
            switch ($f[0]) {
                'start' { $start = [pscustomobject]@{ JobId = [long]$f[1]; Attempt = [int]$f[2]; StartNs = [long]$f[3]; Pid = [int]$f[4]; Lines = [int]$f[5] }; $last = [long]$f[3] }
                'tick' { if ($f.Count -ge 2 -and $f[1]) { $last = [long]$f[1] } }
                'end' { if ($f.Count -ge 3) { $last = [long]$f[1]; $exit = [int]$f[2] } }
            }
        }
        if ($start) {
            $start | Add-Member LastNs $last -PassThru | Add-Member ExitCode $exit -PassThru
        }
    }
}

function ConvertTo-UnixNs([DateTime] $Time) {
    $utc = if ($Time.Kind -eq [DateTimeKind]::Local) { $Time.ToUniversalTime() } else { [DateTime]::SpecifyKind($Time, 'Utc') }
    ($utc.Ticks - [DateTime]::UnixEpoch.Ticks) * 100
}

function Test-ChaosInvariants {
    param(
        [Parameter(Mandatory)] [string] $Database,
        [Parameter(Mandatory)] [string] $AttemptsFolder,
        [Parameter(Mandatory)] [string] $SubmittedFile,
        [string] $UserActionsFile,
        [object[]] $Schedules = @(),
        # The bin folder of PostgreSQL (psql, pg_amcheck), for a queue on PostgreSQL.
        [string] $PostgresBin
    )
    $violations = [Collections.Generic.List[string]]::new()
    $jobs = @{}
    foreach ($j in Get-TrainingJob -Database $Database) { $jobs[$j.JobId] = $j }
    $records = @(Read-ChaosAttempts -Folder $AttemptsFolder)
    $byJob = $records | Group-Object JobId -AsHashTable
    if (-not $byJob) { $byJob = @{} }
    $submittedIds = @(if (Test-Path $SubmittedFile) { Get-Content $SubmittedFile | Where-Object { $_ } | ForEach-Object { [long]$_ } })
    $actions = @(if ($UserActionsFile -and (Test-Path $UserActionsFile)) { Get-Content $UserActionsFile })
    $now = [DateTime]::UtcNow
    $terminal = 'Completed', 'Failed', 'Cancelled'

    # Every submitted job accounted for: terminal, or pending/running under a live lease.
    foreach ($id in $submittedIds) {
        $j = $jobs[$id]
        if (-not $j) { $violations.Add("job $id was submitted but is not in the queue"); continue }
        $status = "$($j.Status)"
        if ($status -in $terminal) { continue }
        $live = $j.LeaseExpiresAt -and (ConvertTo-UnixNs $j.LeaseExpiresAt) -gt (ConvertTo-UnixNs $now)
        if (-not $live) { $violations.Add("job $id is $status with no live lease after the drain") }
    }

    # Rescue log lines (one per rescued attempt), by job and attempt.
    $rescued = @{}
    $rescueCount = 0
    $logsByJob = @{}
    foreach ($id in $jobs.Keys) {
        $entries = @(Get-TrainingJobLog -Database $Database -Id $id)
        $logsByJob[$id] = $entries
        foreach ($e in $entries) {
            if ("$($e.Level)" -eq 'Warning' -and $e.Message -match "^(Rescued: |Failed: worker '|Cancelled by request; worker ')") {
                $rescueCount++
                $rescued["$id/$($e.Attempt)"] = $true
            }
        }
    }

    $successesLostToKills = 0
    $successesOverridden = 0
    foreach ($id in $jobs.Keys) {
        $j = $jobs[$id]
        $status = "$($j.Status)"
        $mine = @(if ($byJob.ContainsKey($id)) { $byJob[$id] } elseif ($byJob.ContainsKey([int]$id)) { $byJob[[int]$id] })

        # Retries within their maximum.
        if ($j.RetryCount -gt $j.MaxRetries) { $violations.Add("job $id has RetryCount $($j.RetryCount) > MaxRetries $($j.MaxRetries)") }

        # No two attempts of one job at the same time (a killed attempt ends at its last tick).
        $sorted = @($mine | Sort-Object StartNs)
        for ($i = 1; $i -lt $sorted.Count; $i++) {
            $maxLast = ($sorted[0..($i - 1)] | Measure-Object LastNs -Maximum).Maximum
            if ($sorted[$i].StartNs -le $maxLast) {
                $violations.Add("job $id : attempt $($sorted[$i].Attempt) (pid $($sorted[$i].Pid)) started while an earlier attempt still ran")
            }
        }

        # Nothing runs after a job's final state (covers cancelled jobs running again).
        if ($status -in $terminal -and $j.CompletedAt) {
            $endNs = ConvertTo-UnixNs $j.CompletedAt
            foreach ($a in $mine) {
                if ($a.StartNs -gt $endNs + 1000000) {
                    $violations.Add("job $id ($status at $($j.CompletedAt.ToString('o'))): attempt $($a.Attempt) started after that")
                }
            }
        }

        if ($status -eq 'Completed') {
            $wins = @($mine | Where-Object { $_.ExitCode -eq 0 })
            $final = @($wins | Where-Object Attempt -EQ $j.Attempt)
            # Script-less jobs cannot happen here: every job runs the trainer.
            if ($final.Count -ne 1) {
                $violations.Add("job $id completed in attempt $($j.Attempt) but has $($final.Count) successful records of that attempt")
            }
            # A success of another attempt is allowed only when the queue recorded another outcome
            # for that attempt: its worker was killed before it could record the exit (rescued), or
            # a cancel request won the race with the exit (cancelled, then restarted by the user).
            # The trainer writes only INFO lines, so such a record is a WARNING/ERROR line of that attempt.
            foreach ($w in ($wins | Where-Object Attempt -NE $j.Attempt)) {
                $other = @($logsByJob[$id] | Where-Object { $_.Attempt -eq $w.Attempt -and "$($_.Level)" -ne 'Info' })
                if ($rescued["$id/$($w.Attempt)"]) { $successesLostToKills++ }
                elseif ($other.Count) { $successesOverridden++ }
                else { $violations.Add("job $id completed twice: attempts $($w.Attempt) and $($j.Attempt) both succeeded") }
            }
            # No log line lost for the successful attempt.
            if ($final.Count -eq 1) {
                $n = $final[0].Lines
                $seen = @($logsByJob[$id] | Where-Object { $_.Attempt -eq $j.Attempt -and $_.Message -match '^chaos line (\d+)/(\d+)$' } |
                    ForEach-Object { [int]($_.Message -replace '^chaos line (\d+)/.*$', '$1') } | Sort-Object -Unique)
                $missing = @(1..$n | Where-Object { $_ -notin $seen })
                if ($missing.Count) { $violations.Add("job $id attempt $($j.Attempt): log lines $($missing -join ',') of $n are missing") }
            }
        }
    }

    # Every scheduled occurrence fired exactly once, and no minute was skipped between the
    # first and the last occurrence that fired.
    $occurrences = 0
    foreach ($s in $Schedules) {
        $fired = @($jobs.Values | Where-Object { $_.ScheduleId -eq $s.ScheduleId })
        $occurrences += $fired.Count
        foreach ($g in ($fired | Group-Object { $_.ScheduledFor.ToUniversalTime().ToString('o') })) {
            if ($g.Count -ne 1) { $violations.Add("schedule $($s.Name): occurrence $($g.Name) made $($g.Count) jobs") }
        }
        $minutes = @($fired | ForEach-Object { $_.ScheduledFor.ToUniversalTime() } | Sort-Object -Unique)
        for ($i = 1; $i -lt $minutes.Count; $i++) {
            if (($minutes[$i] - $minutes[$i - 1]).TotalMinutes -ne 1) {
                $violations.Add("schedule $($s.Name): no job for the minute(s) between $($minutes[$i - 1].ToString('o')) and $($minutes[$i].ToString('o'))")
            }
        }
    }

    $integrity = Test-ChaosIntegrity -Database $Database -PostgresBin $PostgresBin
    if ($integrity -ne 'ok') { $violations.Add("integrity check: $integrity") }
    $storage = Test-ChaosStorage -Database $Database -PostgresBin $PostgresBin
    foreach ($problem in $storage) { $violations.Add("store: $problem") }

    $statusCounts = [ordered]@{}
    foreach ($s in 'Pending', 'Running', 'Completed', 'Failed', 'Cancelled') { $statusCounts[$s] = @($jobs.Values | Where-Object { "$($_.Status)" -eq $s }).Count }
    [pscustomobject]@{
        Violations = $violations
        Figures = [ordered]@{
            Jobs = $jobs.Count
            Submitted = $submittedIds.Count
            ScheduledJobs = $occurrences
            Completed = $statusCounts.Completed; Failed = $statusCounts.Failed; Cancelled = $statusCounts.Cancelled
            Pending = $statusCounts.Pending; Running = $statusCounts.Running
            Attempts = $records.Count
            AttemptsKilled = @($records | Where-Object { $null -eq $_.ExitCode }).Count
            Rescues = $rescueCount
            SuccessesLostToWorkerKills = $successesLostToKills
            SuccessesRecordedAsCancelled = $successesOverridden
            Cancels = @($actions | Where-Object { $_ -like 'cancel *' }).Count
            Restarts = @($actions | Where-Object { $_ -like 'restart *' }).Count
            Integrity = $integrity
            Consistency = if ($storage.Count) { $storage -join '; ' } else { 'ok' }
        }
    }
}
