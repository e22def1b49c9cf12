# W6 (cmdlet level): one Invoke-JobScheduler pass over 1,000 schedules, on the large queue the
# engine harness left behind (1,000,000 jobs in a full run), plus the W6 queries through cmdlets.
# -Database, -Level and -Durability run it on another backend (see Bench.Postgres.ps1).
param([string] $Root, [string] $Work, [switch] $Quick, [string] $Database, [string] $Level = 'cmdlet', [string] $Durability = 'synchronous=NORMAL')

$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')
Import-Module (Join-Path $Root 'JobQueue.psd1')

$db = if ($Database) { $Database } else { Join-Path $Work 'w6.db' }
if (-not $Database -and -not (Test-Path $db)) { $db = Join-Path $Work 'w6-fresh.db' }
function Row($Metric, [double] $Value, $Unit) { New-BenchRow 'W6' $Level 1 $Metric $Value $Unit $Durability }

Row 'list-20-pending' (Get-MedianMs { Get-TrainingJob -Database $db -Status Pending -First 20 } -Repeat 100) 'ms'
Row 'statistics' (Get-MedianMs { Get-JobQueueStatistics -Database $db } -Repeat 100) 'ms'
Row 'claim' (Get-MedianMs { Receive-TrainingJob -Database $db -WorkerId bench-w6 } -Repeat 100) 'ms'

# 1,000 schedules, every one due each minute: a pass creates 1,000 jobs.
$start = [DateTimeOffset]::new(2030, 1, 1, 0, 0, 0, [TimeSpan]::Zero)
foreach ($i in 1..1000) {
    New-JobSchedule -Database $db -Name "bench-$i" -Type evaluation -Cron '* * * * *' -Config @{ i = $i } -StartAt $start | Out-Null
}
# An untimed first pass fires the start occurrence; each timed pass then fires one minute.
$null = Invoke-JobScheduler -Database $db -Now $start
$passes = foreach ($minute in 1..5) {
    $now = $start.AddMinutes($minute)
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $created = @(Invoke-JobScheduler -Database $db -Now $now)
    $sw.Elapsed.TotalMilliseconds
    if ($created.Count -ne 1000) { throw "A scheduler pass over 1,000 due schedules created $($created.Count) jobs." }
}
$sorted = @($passes | Sort-Object)
Row 'scheduler-pass-1000-schedules' $sorted[2] 'ms'
