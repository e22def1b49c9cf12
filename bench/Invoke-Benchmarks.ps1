# Runs the benchmark workloads of BENCHMARKS.md (W1-W6) at the engine and cmdlet levels, beside
# the raw-SQLite floor measured in the same run, and writes bench/results/<date>-<commit>.md/.tsv.
# Called by `build.ps1 -Task Bench [-Quick]` in a fresh pwsh after a build.
param([switch] $Quick)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = Split-Path $PSScriptRoot -Parent
. (Join-Path $Root 'tools/BuildSupport.ps1')
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')

$work = Join-Path ([IO.Path]::GetTempPath()) ("jobqueue-bench-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
New-Item -ItemType Directory -Force $work | Out-Null
$rows = [Collections.Generic.List[object]]::new()
$started = [Diagnostics.Stopwatch]::StartNew()

try {
    # ---- engine level and the floor (a C# harness over the engine, no PowerShell) --------------
    Write-Step 'Engine level and raw-SQLite floor (W1, W2, W3, W6)'
    $harness = Join-Path $Root 'out/bench/JobQueue.Bench.dll'
    Invoke-Native dotnet build (Join-Path $PSScriptRoot 'JobQueue.Bench/JobQueue.Bench.csproj') -c Release -o (Join-Path $Root 'out/bench') --nologo -v quiet
    $harnessArgs = @($harness, '--work', $work, '--w6-keep', (Join-Path $work 'w6.db'))
    if ($Quick) { $harnessArgs += '--quick' }
    & dotnet @harnessArgs | ForEach-Object {
        Write-Host "  $_"
        $rows.Add((ConvertFrom-BenchTsv $_))
    }
    if ($LASTEXITCODE -ne 0) { throw "The engine benchmark harness failed ($LASTEXITCODE)." }

    # ---- cmdlet level --------------------------------------------------------------------------
    Write-Step 'Cmdlet level (W1, W2, W3, W5)'
    foreach ($row in (Invoke-CmdletBenchmarks -Root $Root -Work $work -Quick:$Quick)) {
        Write-Host ("  {0}" -f (ConvertTo-BenchTsv $row))
        $rows.Add($row)
    }

    foreach ($extra in Get-ChildItem $PSScriptRoot -Filter 'Bench.*.ps1' | Sort-Object Name) {
        Write-Step "Extra workloads: $($extra.BaseName)"
        foreach ($row in (& $extra.FullName -Root $Root -Work $work -Quick:$Quick)) {
            Write-Host ("  {0}" -f (ConvertTo-BenchTsv $row))
            $rows.Add($row)
        }
    }
}
finally {
    Remove-Item -Recurse -Force $work -ErrorAction Ignore
}

Write-Step 'Results'
$commit = (git -C $Root rev-parse --short HEAD 2>$null) ?? 'unknown'
$stamp = (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd')
$results = Join-Path $PSScriptRoot 'results'
New-Item -ItemType Directory -Force $results | Out-Null
$base = Join-Path $results ("{0}-{1}{2}" -f $stamp, $commit, $(if ($Quick) { '-quick' } else { '' }))
$rows | ForEach-Object { ConvertTo-BenchTsv $_ } | Set-Content "$base.tsv" -Encoding utf8
Write-BenchReport -Rows $rows -Path "$base.md" -Quick:$Quick -Commit $commit -Elapsed $started.Elapsed
Write-Host "Wrote $base.md and $base.tsv in $([int]$started.Elapsed.TotalSeconds) s"
