# Helpers of the benchmark runner: rows, cmdlet-level workloads and the report.

function New-BenchRow($Workload, $Level, [int] $Workers, $Metric, [double] $Value, $Unit, $Durability = 'synchronous=NORMAL') {
    [pscustomobject]@{
        Workload = $Workload; Level = $Level; Workers = $Workers; Metric = $Metric
        Value = $Value; Unit = $Unit; Durability = $Durability
    }
}

function ConvertFrom-BenchTsv([string] $Line) {
    $f = $Line -split "`t"
    New-BenchRow $f[0] $f[1] ([int]$f[2]) $f[3] ([double]::Parse($f[4], [Globalization.CultureInfo]::InvariantCulture)) $f[5] $f[6]
}

function ConvertTo-BenchTsv($Row) {
    ($Row.Workload, $Row.Level, $Row.Workers, $Row.Metric,
        $Row.Value.ToString('0.###', [Globalization.CultureInfo]::InvariantCulture), $Row.Unit, $Row.Durability) -join "`t"
}

function Get-MedianMs([scriptblock] $Action, [int] $Repeat) {
    $samples = foreach ($i in 1..$Repeat) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        & $Action | Out-Null
        $sw.Elapsed.TotalMilliseconds
    }
    $sorted = @($samples | Sort-Object)
    $sorted[[int][math]::Floor(($sorted.Count - 1) / 2)]
}

function Invoke-CmdletBenchmarks([string] $Root, [string] $Work, [switch] $Quick) {
    Import-Module (Join-Path $Root 'JobQueue.psd1')
    $config = @{ lr = 5e-5; epochs = 10 }

    # W1 / W5: Submit-TrainingJob called in a loop, one job (one transaction) per call.
    $db = Join-Path $Work 'w1-cmdlet.db'
    1..200 | ForEach-Object { Submit-TrainingJob -Database $db -Type training -Config $config } | Out-Null
    $n = if ($Quick) { 1000 } else { 2000 }
    $sw = [Diagnostics.Stopwatch]::StartNew()
    for ($i = 0; $i -lt $n; $i++) { $null = Submit-TrainingJob -Database $db -Type training -Config $config }
    $rate = $n / $sw.Elapsed.TotalSeconds
    New-BenchRow 'W1' 'cmdlet' 1 'enqueue' $rate 'jobs/s'
    New-BenchRow 'W5' 'cmdlet' 1 'submit-loop' $rate 'calls/s'
    New-BenchRow 'W5' 'cmdlet' 1 'submit-loop-per-call' (1000 / $rate) 'ms'

    # W5: the list a user runs most, on a queue with pending work.
    $perCall = Get-MedianMs { Get-TrainingJob -Database $db -Status Pending -First 20 } -Repeat $(if ($Quick) { 200 } else { 1000 })
    New-BenchRow 'W5' 'cmdlet' 1 'get-first-20-pending' $perCall 'ms'

    # W2 / W5: objects piped into Submit-TrainingJob (the batch path).
    $n = if ($Quick) { 20000 } else { 100000 }
    $configs = foreach ($i in 1..$n) { @{ lr = 5e-5; epochs = 10 } }
    $db = Join-Path $Work 'w2-cmdlet.db'
    Initialize-JobQueue -Database $db | Out-Null
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $configs | Submit-TrainingJob -Database $db -Type training | Out-Null
    $rate = $n / $sw.Elapsed.TotalSeconds
    New-BenchRow 'W2' 'cmdlet' 1 'enqueue-batch' $rate 'jobs/s'
    New-BenchRow 'W5' 'cmdlet' 1 'piped-batch' $rate 'jobs/s'
    Remove-Variable configs

    # W3: separate pwsh processes draining through Receive-TrainingJob / Complete-TrainingJob.
    $n = if ($Quick) { 600 } else { 2000 }
    foreach ($workers in 1, 4, 16) {
        $db = Join-Path $Work "w3-cmdlet-$workers.db"
        1..$n | ForEach-Object { $config } | Submit-TrainingJob -Database $db -Type training | Out-Null
        $drain = Invoke-CmdletDrain -Root $Root -Database $db -Workers $workers -Work $Work
        New-BenchRow 'W3' 'cmdlet' $workers 'drain' ($n / $drain.Seconds) 'jobs/s'
        New-BenchRow 'W3' 'cmdlet' $workers 'duplicates' $drain.Duplicates 'jobs'
        New-BenchRow 'W3' 'cmdlet' $workers 'missing' ($n - $drain.Distinct) 'jobs'
    }

    # W5: a cold start: a new pwsh, import, one call.
    $db = Join-Path $Work 'w5-cold.db'
    Initialize-JobQueue -Database $db | Out-Null
    $launcher = Get-PwshLauncher
    $psd1 = Join-Path $Root 'JobQueue.psd1'
    $cold = Get-MedianMs {
        & $launcher[0] @(@($launcher | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command',
                "Import-Module '$psd1'; Get-JobQueueStatistics -Database '$db' | Out-Null"))
    } -Repeat $(if ($Quick) { 3 } else { 5 })
    New-BenchRow 'W5' 'cmdlet' 1 'cold-start' $cold 'ms'
}

function Invoke-CmdletDrain([string] $Root, [string] $Database, [int] $Workers, [string] $Work) {
    # Each process waits for a start file so process start-up is not timed, then drains and
    # writes the ids it completed with its first-claim and last-completion times.
    $go = Join-Path $Work ("go-" + [guid]::NewGuid().ToString('N'))
    $launcher = Get-PwshLauncher
    $psd1 = Join-Path $Root 'JobQueue.psd1'
    $procs = foreach ($w in 1..$Workers) {
        $out = Join-Path $Work "drain-$Workers-$w.txt"
        $script = @"
Import-Module '$psd1'
`$null = Get-JobQueueStatistics -Database '$Database'
while (-not (Test-Path '$go')) { Start-Sleep -Milliseconds 20 }
`$ids = [Collections.Generic.List[long]]::new()
`$first = `$null
while (`$job = Receive-TrainingJob -Database '$Database' -WorkerId 'bench-$w') {
    if (`$null -eq `$first) { `$first = [DateTime]::UtcNow.Ticks }
    `$job | Complete-TrainingJob
    `$ids.Add(`$job.JobId)
}
`$last = [DateTime]::UtcNow.Ticks
Set-Content '$out' -Value (@("`$first `$last") + `$ids)
"@
        $psi = [Diagnostics.ProcessStartInfo]::new($launcher[0])
        foreach ($a in @($launcher | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)) { $psi.ArgumentList.Add($a) }
        [pscustomobject]@{ Process = [Diagnostics.Process]::Start($psi); Output = $out }
    }
    Start-Sleep -Seconds ([math]::Max(3, $Workers))   # let every process import the module
    New-Item -ItemType File $go | Out-Null
    $procs | ForEach-Object { $_.Process.WaitForExit() }
    $firsts = @(); $lasts = @(); $all = [Collections.Generic.List[long]]::new()
    foreach ($p in $procs) {
        $lines = @(Get-Content $p.Output)
        $times = $lines[0] -split ' '
        if ($times[0]) { $firsts += [long]$times[0] }
        $lasts += [long]$times[1]
        $lines | Select-Object -Skip 1 | ForEach-Object { $all.Add([long]$_) }
    }
    $distinct = @($all | Sort-Object -Unique).Count
    [pscustomobject]@{
        Seconds    = ([TimeSpan]::FromTicks(($lasts | Measure-Object -Maximum).Maximum - ($firsts | Measure-Object -Minimum).Minimum)).TotalSeconds
        Duplicates = $all.Count - $distinct
        Distinct   = $distinct
    }
}

function Write-BenchReport($Rows, [string] $Path, [switch] $Quick, [string] $Commit, [TimeSpan] $Elapsed) {
    $floor = @{}
    foreach ($r in $Rows | Where-Object Level -EQ 'raw-sqlite') { $floor["$($r.Workload)|$($r.Workers)|$($r.Durability)"] = $r.Value }
    $lines = [Collections.Generic.List[string]]::new()
    $lines.Add("# Benchmark results ($(if ($Quick) { 'quick pass' } else { 'full run' }))")
    $lines.Add('')
    $lines.Add("Commit $Commit, $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC, $([Environment]::ProcessorCount) cores, " +
        "$([Runtime.InteropServices.RuntimeInformation]::OSDescription), .NET $([Environment]::Version), PowerShell $($PSVersionTable.PSVersion). " +
        "Took $([int]$Elapsed.TotalSeconds) s. Made by ``dotnet pwsh ./build.ps1 -Task Bench$(if ($Quick) { ' -Quick' })``.")
    $lines.Add('')
    $lines.Add('Ratio: the figure divided by the raw-SQLite floor measured in the same run (same file kind, same synchronous setting, same worker count).')
    $lines.Add('')
    $lines.Add('| workload | level | workers | metric | value | unit | ratio to floor | durability |')
    $lines.Add('|---|---|---:|---|---:|---|---:|---|')
    foreach ($r in $Rows) {
        $key = "$($r.Workload)|$($r.Workers)|$($r.Durability)"
        $ratio = if ($r.Level -ne 'raw-sqlite' -and $r.Unit -eq 'jobs/s' -and $floor.ContainsKey($key) -and $r.Metric -notin 'duplicates', 'missing') {
            ($r.Value / $floor[$key]).ToString('0.00', [Globalization.CultureInfo]::InvariantCulture)
        } else { '' }
        $value = if ($r.Value -ge 100) { $r.Value.ToString('N0', [Globalization.CultureInfo]::InvariantCulture) } else { $r.Value.ToString('0.###', [Globalization.CultureInfo]::InvariantCulture) }
        $lines.Add("| $($r.Workload) | $($r.Level) | $($r.Workers) | $($r.Metric) | $value | $($r.Unit) | $ratio | $($r.Durability) |")
    }
    $lines | Set-Content $Path -Encoding utf8
}
