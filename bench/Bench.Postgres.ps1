# The PostgreSQL rows: the engine harness against a raw-Npgsql floor (W1, W2, W3, W6), the
# cmdlet-level workloads (W1, W2, W3, W5), W4 with idle workers woken by LISTEN/NOTIFY, and the
# W6 scheduler pass, all on a throwaway server of this run's own (durable: fsync on) on loopback.
# Without PostgreSQL binaries it says so and adds no rows.
param([string] $Root, [string] $Work, [switch] $Quick)

$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $Root 'JobQueue.psd1')
. (Join-Path $Root 'tools/BuildSupport.ps1')
. (Join-Path $Root 'tools/TestPostgres.ps1')
. (Join-Path $PSScriptRoot 'BenchSupport.ps1')

$server = Start-TestPostgres -Durable
if (-not $server) { return }
try {
    $admin = $server.ConnectionString
    $normal = 'synchronous_commit=off'
    function New-BenchPostgresDatabase([string] $Name) {
        $cs = New-PostgresDatabase $admin -Bin $server.Bin -Prefix ('bench_' + ($Name -replace '\W', '_'))
        # Without a stored setting a queue follows the server's synchronous_commit (on); these rows are the Normal ones.
        Initialize-JobQueue -Database $cs -Durability Normal | Out-Null
        $cs
    }

    # Engine level beside the raw-Npgsql floor.
    $harness = Join-Path $Root 'out/bench/JobQueue.Bench.dll'
    $keep = Join-Path $Work 'w6-postgres.txt'
    $harnessArgs = @($harness, '--postgres', $admin, '--work', $Work, '--w6-keep', $keep)
    if ($Quick) { $harnessArgs += '--quick' }
    & dotnet @harnessArgs | ForEach-Object { ConvertFrom-BenchTsv $_ }
    if ($LASTEXITCODE -ne 0) { throw "The engine benchmark harness failed on PostgreSQL ($LASTEXITCODE)." }

    # Cmdlet level, W3 in separate pwsh processes as on SQLite.
    Invoke-CmdletBenchmarks -Root $Root -Work $Work -Quick:$Quick -Level 'cmdlet-postgres' -Durability $normal `
        -NewDatabase { param($Name) New-BenchPostgresDatabase $Name }

    & (Join-Path $PSScriptRoot 'Bench.Worker.ps1') -Root $Root -Work $Work -Quick:$Quick `
        -Database (New-BenchPostgresDatabase 'w4') -Level 'cmdlet-postgres' -Durability $normal
    & (Join-Path $PSScriptRoot 'Bench.Scheduler.ps1') -Root $Root -Work $Work -Quick:$Quick `
        -Database (Get-Content $keep -Raw).Trim() -Level 'cmdlet-postgres' -Durability $normal
}
finally {
    Stop-TestPostgres $server
}
