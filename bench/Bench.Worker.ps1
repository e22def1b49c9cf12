# W4: enqueue-to-start latency with idle workers in other processes at default settings, the
# CPU an idle worker uses, and the time from claim to a trainer process running.
# -Database, -Level and -Durability run it on another backend (see Bench.Postgres.ps1).
param([string] $Root, [string] $Work, [switch] $Quick, [string] $Database, [string] $Level = 'cmdlet', [string] $Durability = 'synchronous=NORMAL')

$ErrorActionPreference = 'Stop'
. (Join-Path $Root 'tools/BuildSupport.ps1')
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')
Import-Module (Join-Path $Root 'JobQueue.psd1')

$db = if ($Database) { $Database } else { Join-Path $Work 'w4.db' }
function Row($Metric, [double] $Value, $Unit) { New-BenchRow 'W4' $Level 2 $Metric $Value $Unit $Durability }
Initialize-JobQueue -Database $db | Out-Null
$launcher = Get-PwshLauncher
$psd1 = Join-Path $Root 'JobQueue.psd1'
$workers = foreach ($w in 1..2) {
    $script = "Import-Module '$psd1'; Start-JobWorker -Database '$db' -WorkerId 'bench-w4-$w' -Handler @{ training = { param(`$Job) } } | Out-Null"
    $psi = [Diagnostics.ProcessStartInfo]::new($launcher[0])
    foreach ($a in @($launcher | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)) { $psi.ArgumentList.Add($a) }
    [Diagnostics.Process]::Start($psi)
}
try {
    $deadline = [DateTime]::UtcNow.AddSeconds(120)
    while (@(Get-JobWorker -Database $db | Where-Object State -EQ 'Running').Count -lt 2) {
        if ([DateTime]::UtcNow -gt $deadline) { throw 'The W4 workers did not start.' }
        Start-Sleep -Milliseconds 200
    }
    # Warm-up: a worker's first job compiles its handler and the claim path (about a second on a
    # busy machine); a long-lived worker has done that long before. Without it the first job's
    # delay queues behind it every later one, and W4 would measure start-up instead of wake-up.
    $warm = foreach ($i in 1..6) { (Submit-TrainingJob -Database $db -Type training -Config @{ warmup = $i }).JobId; Start-Sleep -Milliseconds 100 }
    $null = Wait-TrainingJob -Database $db -Id $warm -Timeout 00:02:00
    Start-Sleep -Seconds 2   # let start-up work settle before measuring idleness

    # Idle CPU: both workers, 10 s, nothing to do.
    $before = $workers | ForEach-Object { $_.Refresh(); $_.TotalProcessorTime }
    $sw = [Diagnostics.Stopwatch]::StartNew()
    Start-Sleep -Seconds 10
    $after = $workers | ForEach-Object { $_.Refresh(); $_.TotalProcessorTime }
    $idle = for ($i = 0; $i -lt $workers.Count; $i++) { 100 * ($after[$i] - $before[$i]).TotalSeconds / $sw.Elapsed.TotalSeconds }
    Row 'idle-worker-cpu' (($idle | Measure-Object -Maximum).Maximum) '% of a core'

    # Enqueue to start: 200 jobs (50 in a quick pass), 20 ms apart.
    $count = if ($Quick) { 50 } else { 200 }
    $ids = foreach ($i in 1..$count) {
        (Submit-TrainingJob -Database $db -Type training -Config @{ i = $i }).JobId
        Start-Sleep -Milliseconds 20
    }
    $null = Wait-TrainingJob -Database $db -Id $ids -Timeout 00:02:00
    $latencies = @(Get-TrainingJob -Database $db -Id $ids | ForEach-Object { ($_.StartedAt - $_.CreatedAt).TotalMilliseconds } | Sort-Object)
    foreach ($p in 50, 95, 99) {
        $rank = [math]::Min($latencies.Count - 1, [int][math]::Ceiling($p / 100 * $latencies.Count) - 1)
        Row "enqueue-to-start-p$p" $latencies[$rank] 'ms'
    }

    # Claim to trainer process running: the trainer prints its own start time (ms since the epoch).
    $date = Get-Command date -CommandType Application -ErrorAction Ignore | Select-Object -First 1
    if ($date) {
        $procIds = foreach ($i in 1..20) {
            (Submit-TrainingJob -Database $db -Type export -Command $date.Source, '+%s%3N').JobId
            Start-Sleep -Milliseconds 50
        }
        $null = Wait-TrainingJob -Database $db -Id $procIds -Timeout 00:02:00
        $starts = @(foreach ($id in $procIds) {
                $job = Get-TrainingJob -Database $db -Id $id
                $line = Get-TrainingJobLog -Database $db -Id $id | Where-Object Message -Match '^\d{13}$' | Select-Object -First 1
                if ($line) {
                    [DateTimeOffset]::FromUnixTimeMilliseconds([long]$line.Message).UtcDateTime.Subtract($job.StartedAt.ToUniversalTime()).TotalMilliseconds
                }
            }) | Sort-Object
        if ($starts.Count) {
            Row 'claim-to-process-start-p50' $starts[[int][math]::Floor(($starts.Count - 1) / 2)] 'ms'
        }
    }
}
finally {
    foreach ($w in 1..2) { Stop-JobWorker -Database $db -WorkerId "bench-w4-$w" -ErrorAction Ignore | Out-Null }
    foreach ($p in $workers) {
        if (-not $p.WaitForExit(30000)) { $p.Kill($true) }
    }
}
