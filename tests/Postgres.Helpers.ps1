# Helpers of the PostgreSQL suites; dot-source after TestHelpers.ps1 (in BeforeDiscovery too, for -ForEach).
. (Join-Path $script:RepoRoot 'tools/TestPostgres.ps1')

function Get-PostgresTestServer {
    # The run's throwaway server as @{ PgHost; PgPort } (hashtable keys become variables in Pester blocks), or nothing when this run has none, so that
    # `Describe ... -ForEach @(Get-PostgresTestServer)` (an empty list runs nothing) runs only with one.
    if (-not $env:JOBQUEUE_TEST_POSTGRES) { return }
    $parts = @{}
    foreach ($pair in $env:JOBQUEUE_TEST_POSTGRES -split ';') {
        if ($pair -match '^\s*([^=]+?)\s*=\s*(.*)$') { $parts[$Matches[1]] = $Matches[2] }
    }
    @{ PgHost = $parts['Host']; PgPort = [int]$parts['Port'] }
}

function Get-TestDatabaseName([string] $ConnectionString) {
    if ($ConnectionString -match '(?i)(^|;)\s*Database\s*=\s*([^;]+)') { return $Matches[2].Trim() }
    throw "No Database in '$ConnectionString'."
}

function New-PostgresTestRole {
    # A login role of this run (trusted on loopback, like postgres); returns its name.
    param([string] $Prefix = 'jq_role')
    $name = $Prefix + '_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    Invoke-TestPsql "CREATE ROLE $name LOGIN" | Out-Null
    $name
}

function Set-PostgresPasswordRole {
    # The one role that the throwaway server makes log in with a password (see tools/TestPostgres.ps1);
    # gives it $Password and makes it the owner of $Database, so it may create the tables there.
    param([Parameter(Mandatory)] [string] $Password, [Parameter(Mandatory)] [string] $Database)
    $quoted = $Password.Replace("'", "''")
    Invoke-TestPsql "DO `$`$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'jq_password_user') THEN CREATE ROLE jq_password_user LOGIN; END IF; END `$`$" | Out-Null
    Invoke-TestPsql "ALTER ROLE jq_password_user PASSWORD '$quoted'" | Out-Null
    Invoke-TestPsql "ALTER DATABASE $Database OWNER TO jq_password_user" | Out-Null
    'jq_password_user'
}

function Invoke-Drain {
    # Drains a queue of $Jobs jobs with $Claimers separate pwsh processes, each looping
    # Receive-TrainingJob | Complete-TrainingJob until the queue is empty. The processes start,
    # import the module and open the queue first, then all begin together, so the figure is the
    # drain itself and not PowerShell's start-up. Returns the claims of every process and the rate.
    param(
        [Parameter(Mandatory)] [string] $Database,
        [Parameter(Mandatory)] [int] $Claimers,
        [Parameter(Mandatory)] [int] $Jobs,
        [int] $TimeoutSeconds = 600
    )
    $folder = Join-Path ([IO.Path]::GetTempPath()) ("jq-drain-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory $folder | Out-Null
    $go = Join-Path $folder 'go'
    1..$Jobs | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $Database -Type training | Out-Null
    $processes = foreach ($i in 1..$Claimers) {
        $out = Join-Path $folder "claims-$i.txt"
        $ready = Join-Path $folder "ready-$i"
        Start-Pwsh -OutputPath (Join-Path $folder "log-$i.txt") -Environment @{ JOBQUEUE_DATABASE = $Database } -Script @"
`$null = Get-JobQueueStatistics
New-Item -ItemType File '$ready' | Out-Null
while (-not (Test-Path '$go')) { Start-Sleep -Milliseconds 20 }
`$claims = [Collections.Generic.List[string]]::new()
`$start = [DateTime]::UtcNow.Ticks
while (`$job = Receive-TrainingJob -WorkerId 'claimer-$i') {
    `$job | Complete-TrainingJob
    `$claims.Add("`$(`$job.JobId) `$(`$job.Attempt)")
}
`$end = [DateTime]::UtcNow.Ticks
Set-Content '$out' (@("`$start `$end") + `$claims)
"@
    }
    try {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while (@(Get-ChildItem $folder -Filter 'ready-*').Count -lt $Claimers) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'The claimer processes did not start in time.' }
            if ($processes | Where-Object HasExited) {
                throw "A claimer process exited before the start: $(Get-Content (Join-Path $folder 'log-*.txt') -Raw)"
            }
            Start-Sleep -Milliseconds 100
        }
        New-Item -ItemType File $go | Out-Null
        foreach ($p in $processes) {
            $left = [Math]::Max(1000, ($deadline - [DateTime]::UtcNow).TotalMilliseconds)
            if (-not $p.WaitForExit([int]$left)) { throw "Claimer $($p.Id) did not finish in time." }
        }
        if ($processes | Where-Object ExitCode -NE 0) {
            throw "A claimer process failed: $(Get-Content (Join-Path $folder 'log-*.txt') -Raw)"
        }
        $claims = @()
        $starts = @(); $ends = @()
        foreach ($i in 1..$Claimers) {
            $lines = @(Get-Content (Join-Path $folder "claims-$i.txt"))
            $s, $e = $lines[0] -split ' '
            $starts += [long]$s; $ends += [long]$e
            $claims += $lines | Select-Object -Skip 1 | ForEach-Object {
                $id, $attempt = $_ -split ' '
                [pscustomobject]@{ Claimer = $i; JobId = [long]$id; Attempt = [int]$attempt }
            }
        }
        $seconds = [TimeSpan]::FromTicks(($ends | Measure-Object -Maximum).Maximum - ($starts | Measure-Object -Minimum).Minimum).TotalSeconds
        [pscustomobject]@{
            Claimers      = $Claimers
            Jobs          = $Jobs
            Seconds       = $seconds
            JobsPerSecond = if ($seconds -gt 0) { $Jobs / $seconds } else { 0 }
            Claims        = $claims
        }
    }
    finally {
        foreach ($p in $processes) { if (-not $p.HasExited) { $p.Kill($true) } }
        Remove-Item -Recurse -Force $folder -ErrorAction Ignore
    }
}
