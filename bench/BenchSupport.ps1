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

function Invoke-CmdletBenchmarks {
    # The cmdlet-level workloads on one backend: -NewDatabase makes an empty database from a name
    # (a file in $Work by default); -Level and -Durability label the rows.
    param(
        [string] $Root, [string] $Work, [switch] $Quick,
        [scriptblock] $NewDatabase = { param($Name) Join-Path $Work "$Name.db" },
        [string] $Level = 'cmdlet',
        [string] $Durability = 'synchronous=NORMAL',
        [int[]] $DrainWorkers = @(1, 4, 16)
    )
    Import-Module (Join-Path $Root 'JobQueue.psd1')
    $config = @{ lr = 5e-5; epochs = 10 }
    function Row($Workload, [int] $Workers, $Metric, [double] $Value, $Unit) { New-BenchRow $Workload $Level $Workers $Metric $Value $Unit $Durability }

    # W1 / W5: Submit-TrainingJob called in a loop, one job (one transaction) per call.
    $db = & $NewDatabase 'w1-cmdlet'
    1..200 | ForEach-Object { Submit-TrainingJob -Database $db -Type training -Config $config } | Out-Null
    $n = if ($Quick) { 1000 } else { 2000 }
    $sw = [Diagnostics.Stopwatch]::StartNew()
    for ($i = 0; $i -lt $n; $i++) { $null = Submit-TrainingJob -Database $db -Type training -Config $config }
    $rate = $n / $sw.Elapsed.TotalSeconds
    Row 'W1' 1 'enqueue' $rate 'jobs/s'
    Row 'W5' 1 'submit-loop' $rate 'calls/s'
    Row 'W5' 1 'submit-loop-per-call' (1000 / $rate) 'ms'

    # W5: the list a user runs most, on a queue with pending work.
    $perCall = Get-MedianMs { Get-TrainingJob -Database $db -Status Pending -First 20 } -Repeat $(if ($Quick) { 200 } else { 1000 })
    Row 'W5' 1 'get-first-20-pending' $perCall 'ms'

    # W2 / W5: objects piped into Submit-TrainingJob (the batch path).
    $n = if ($Quick) { 20000 } else { 100000 }
    $configs = foreach ($i in 1..$n) { @{ lr = 5e-5; epochs = 10 } }
    $db = & $NewDatabase 'w2-cmdlet'
    Initialize-JobQueue -Database $db | Out-Null
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $configs | Submit-TrainingJob -Database $db -Type training | Out-Null
    $rate = $n / $sw.Elapsed.TotalSeconds
    Row 'W2' 1 'enqueue-batch' $rate 'jobs/s'
    Row 'W5' 1 'piped-batch' $rate 'jobs/s'
    Remove-Variable configs

    # W3: separate pwsh processes draining through Receive-TrainingJob / Complete-TrainingJob.
    $n = if ($Quick) { 600 } else { 2000 }
    foreach ($workers in $DrainWorkers) {
        $db = & $NewDatabase "w3-cmdlet-$workers"
        1..$n | ForEach-Object { $config } | Submit-TrainingJob -Database $db -Type training | Out-Null
        $drain = Invoke-CmdletDrain -Root $Root -Database $db -Workers $workers -Work $Work
        Row 'W3' $workers 'drain' ($n / $drain.Seconds) 'jobs/s'
        Row 'W3' $workers 'duplicates' $drain.Duplicates 'jobs'
        Row 'W3' $workers 'missing' ($n - $drain.Distinct) 'jobs'
    }

    # W5: a cold start: a new pwsh, import, one call.
    $db = & $NewDatabase 'w5-cold'
    Initialize-JobQueue -Database $db | Out-Null
    $launcher = Get-PwshLauncher
    $psd1 = Join-Path $Root 'JobQueue.psd1'
    $cold = Get-MedianMs {
        & $launcher[0] @(@($launcher | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command',
                "Import-Module '$psd1'; Get-JobQueueStatistics -Database '$db' | Out-Null"))
    } -Repeat $(if ($Quick) { 3 } else { 5 })
    Row 'W5' 1 'cold-start' $cold 'ms'
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
    # Floors are the raw-* rows; durability labels differ per backend (synchronous= for SQLite,
    # synchronous_commit= for PostgreSQL), so each figure meets the floor of its own backend.
    $floor = @{}
    foreach ($r in $Rows | Where-Object { $_.Level -like 'raw-*' -and $_.Unit -eq 'jobs/s' }) { $floor["$($r.Workload)|$($r.Workers)|$($r.Durability)"] = $r.Value }
    $inv = [Globalization.CultureInfo]::InvariantCulture
    $lines = [Collections.Generic.List[string]]::new()
    $lines.Add("# Benchmark results ($(if ($Quick) { 'quick pass' } else { 'full run' }))")
    $lines.Add('')
    $lines.Add("Commit $Commit, $((Get-Date).ToUniversalTime().ToString('yyyy-MM-dd HH:mm')) UTC, $([Environment]::ProcessorCount) cores, " +
        "$([Runtime.InteropServices.RuntimeInformation]::OSDescription), .NET $([Environment]::Version), PowerShell $($PSVersionTable.PSVersion). " +
        "Took $([int]$Elapsed.TotalSeconds) s. Made by ``dotnet pwsh ./build.ps1 -Task Bench$(if ($Quick) { ' -Quick' })``.")
    $sections = @(
        @{ Title = 'SQLite'; Rows = @($Rows | Where-Object Durability -NotLike 'synchronous_commit=*')
            Text = 'Ratio: the figure divided by the raw-SQLite floor measured in the same run (same file kind, same synchronous setting, same worker count).' }
        @{ Title = 'PostgreSQL'; Rows = @($Rows | Where-Object Durability -Like 'synchronous_commit=*')
            Text = 'A throwaway PostgreSQL server on loopback (fsync on). Ratio: the figure divided by the raw-Npgsql floor measured in the same run (same server, same synchronous_commit, same worker count). NORMAL maps to synchronous_commit=off, FULL to on.' }
    )
    foreach ($section in $sections | Where-Object { $_.Rows.Count }) {
        $lines.Add('')
        $lines.Add("## $($section.Title)")
        $lines.Add('')
        $lines.Add($section.Text)
        $lines.Add('')
        $lines.Add('| workload | level | workers | metric | value | unit | ratio to floor | durability |')
        $lines.Add('|---|---|---:|---|---:|---|---:|---|')
        foreach ($r in $section.Rows) {
            $key = "$($r.Workload)|$($r.Workers)|$($r.Durability)"
            $ratio = if ($r.Level -notlike 'raw-*' -and $r.Unit -eq 'jobs/s' -and $floor.ContainsKey($key) -and $r.Metric -notin 'duplicates', 'missing') {
                ($r.Value / $floor[$key]).ToString('0.00', $inv)
            } else { '' }
            $value = if ($r.Value -ge 100) { $r.Value.ToString('N0', $inv) } else { $r.Value.ToString('0.###', $inv) }
            $lines.Add("| $($r.Workload) | $($r.Level) | $($r.Workers) | $($r.Metric) | $value | $($r.Unit) | $ratio | $($r.Durability) |")
        }
    }
    $lines | Set-Content $Path -Encoding utf8
}
