# Shared by every suite: dot-source it in BeforeAll.
$script:RepoRoot = Split-Path $PSScriptRoot -Parent
. (Join-Path $script:RepoRoot 'tools/BuildSupport.ps1')
. (Join-Path $script:RepoRoot 'tools/TestPostgres.ps1')

Import-Module (Join-Path $script:RepoRoot 'JobQueue.psd1') -Force

function Get-TestBackend {
    # The backends the conformance suites run against: SQLite always; PostgreSQL when the test
    # runner started a server ($env:JOBQUEUE_TEST_POSTGRES holds its admin connection string).
    # Use as: Describe 'Jobs on <_>' -ForEach (Get-TestBackend) { ... New-TestDatabase -Backend $_ ... }
    'SQLite'
    if ($env:JOBQUEUE_TEST_POSTGRES) { 'PostgreSQL' }
}

function New-TestDatabase {
    # A fresh, empty queue for one test: an SQLite file in a folder of its own, or (with
    # -Backend PostgreSQL) a new database on the test server; returns what -Database takes.
    param([ValidateSet('SQLite', 'PostgreSQL')] [string] $Backend = 'SQLite')
    if ($Backend -eq 'PostgreSQL') { return New-PostgresTestDatabase }
    $folder = Join-Path ([IO.Path]::GetTempPath()) ("jq-test-" + [guid]::NewGuid().ToString('N').Substring(0, 12))
    New-Item -ItemType Directory -Force $folder | Out-Null
    Join-Path $folder 'jobs.db'
}

function New-PostgresTestDatabase {
    # A fresh database jq_<guid> on the run's throwaway server; returns its connection string.
    # Idle pooled connections close after 10 s, so hundreds of test databases do not pile up
    # server connections in this process.
    if (-not $env:JOBQUEUE_TEST_POSTGRES) {
        throw 'PostgreSQL test databases are not available: no server was started for this run.'
    }
    (New-PostgresDatabase $env:JOBQUEUE_TEST_POSTGRES -Bin (Get-TestPostgresBin)) + ';Connection Idle Lifetime=10'
}

function Get-TestPostgresBin { $env:JOBQUEUE_TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin' }

function Invoke-TestPsql {
    # Runs SQL with psql as the test server's superuser; returns the rows as text (tab-separated).
    # -Database: a database name or a test database's connection string.
    param([Parameter(Mandatory)] [string] $Sql, [string] $Database = 'postgres', [switch] $AllowFailure)
    if ($Database -match '(?i)(^|;)\s*Database\s*=\s*([^;]+)') { $Database = $Matches[2].Trim() }
    Invoke-Psql (Set-PostgresDatabaseName $env:JOBQUEUE_TEST_POSTGRES $Database) $Sql -Bin (Get-TestPostgresBin) -AllowFailure:$AllowFailure
}

function Invoke-QueueSql {
    # Runs hand-written SQL on a test queue of either backend, as a user would with sqlite3 or
    # psql (the statements must be valid on both); returns the output lines.
    param([Parameter(Mandatory)] [string] $Database, [Parameter(Mandatory)] [string] $Sql)
    if ($Database -match '(?i)(^|;)\s*Host\s*=') { return Invoke-TestPsql $Sql -Database $Database }
    $out = & sqlite3 -batch $Database $Sql 2>&1
    if ($LASTEXITCODE -ne 0) { throw "sqlite3 $Database failed ($LASTEXITCODE): $out" }
    $out
}

function Invoke-Pwsh {
    # Runs a script in a new pwsh process with the module imported; returns its output lines.
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{})
    $launcher = Get-PwshLauncher
    $prelude = "`$ErrorActionPreference = 'Stop'; Import-Module '$(Join-Path $script:RepoRoot 'JobQueue.psd1')'; "
    $psi = [Diagnostics.ProcessStartInfo]::new($launcher[0])
    foreach ($a in ($launcher | Select-Object -Skip 1)) { $psi.ArgumentList.Add($a) }
    foreach ($a in '-NoProfile', '-NonInteractive', '-Command', ($prelude + $Script)) { $psi.ArgumentList.Add($a) }
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $p = [Diagnostics.Process]::Start($psi)
    $stderr = $p.StandardError.ReadToEndAsync()
    $out = $p.StandardOutput.ReadToEnd()
    $p.WaitForExit()
    [pscustomobject]@{ ExitCode = $p.ExitCode; Output = $out; Error = $stderr.Result }
}

function Start-Pwsh {
    # Starts a pwsh process in the background with the module imported; returns the Process.
    param([Parameter(Mandatory)] [string] $Script, [string] $OutputPath, [hashtable] $Environment = @{})
    $launcher = Get-PwshLauncher
    $prelude = "`$ErrorActionPreference = 'Stop'; Import-Module '$(Join-Path $script:RepoRoot 'JobQueue.psd1')'; "
    $psi = [Diagnostics.ProcessStartInfo]::new($launcher[0])
    foreach ($a in ($launcher | Select-Object -Skip 1)) { $psi.ArgumentList.Add($a) }
    $body = if ($OutputPath) { "& { $Script } *> '$OutputPath'" } else { $Script }
    foreach ($a in '-NoProfile', '-NonInteractive', '-Command', ($prelude + $body)) { $psi.ArgumentList.Add($a) }
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $psi.UseShellExecute = $false
    [Diagnostics.Process]::Start($psi)
}
