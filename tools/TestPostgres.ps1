# A throwaway PostgreSQL cluster for one test run: its own data folder under the temp folder, a
# free loopback port, a socket folder of its own, trust logins on loopback except for one role
# that must give a password (jq_password_user, for the password tests). Dot-source it.

$script:TestPostgresPasswordRole = 'jq_password_user'

function Find-PostgresBin {
    # JOBQUEUE_POSTGRES_BIN overrides; else the Debian package of PostgreSQL 15, else the newest installed.
    foreach ($candidate in Get-PostgresBinCandidates) {
        if (Test-Path (Join-Path $candidate 'initdb')) { return $candidate }
    }
    $null
}

function Get-PostgresBinCandidates {
    if ($env:JOBQUEUE_POSTGRES_BIN) { return @($env:JOBQUEUE_POSTGRES_BIN) }
    @('/usr/lib/postgresql/15/bin') + @(Get-ChildItem '/usr/lib/postgresql/*/bin' -Directory -ErrorAction Ignore |
            Sort-Object { [int]($_.Parent.Name -replace '\D', '') } -Descending | ForEach-Object FullName)
}

function Get-FreeLoopbackPort {
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Start-TestPostgres {
    # Returns an object describing the running server, or $null (with a line saying why) when
    # PostgreSQL cannot be started here; the tests then run on SQLite only. -Durable keeps the
    # server's defaults for fsync and full-page writes (for benchmarks: commits really reach the disk).
    param([switch] $Durable)
    if ($IsWindows) { Write-Host 'PostgreSQL tests: not run on Windows; running the SQLite backend only.'; return $null }
    $bin = Find-PostgresBin
    if (-not $bin) {
        $looked = (Get-PostgresBinCandidates | Select-Object -Unique) -join ', '
        Write-Host "PostgreSQL tests: no PostgreSQL binaries (looked in $looked; apt-get install postgresql); running the SQLite backend only." -ForegroundColor Yellow
        return $null
    }
    # initdb and pg_ctl refuse to run as root: the cluster belongs to the postgres user then.
    $asRoot = (& id -u) -eq '0'
    $runAs = @()
    if ($asRoot) {
        if (-not (& id -u postgres 2>$null)) {
            Write-Host 'PostgreSQL tests: running as root and there is no postgres user to own the cluster; running the SQLite backend only.' -ForegroundColor Yellow
            return $null
        }
        $runAs = @('runuser', '-u', 'postgres', '--')
    }
    # Under /tmp, which the postgres user can reach even when this runs as root with another TMPDIR.
    $root = Join-Path '/tmp' ("jq-pg-" + [guid]::NewGuid().ToString('N').Substring(0, 10))
    New-Item -ItemType Directory -Force $root | Out-Null
    if ($asRoot) { & chown postgres $root }
    else { & chmod 700 $root }
    $server = [pscustomobject]@{ Root = $root; Data = Join-Path $root 'data'; Bin = $bin; RunAs = $runAs; Port = 0; ConnectionString = $null }
    try {
        $init = @($runAs) + @((Join-Path $bin 'initdb'), '-D', $server.Data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync')
        $output = & $init[0] @($init | Select-Object -Skip 1) 2>&1
        if ($LASTEXITCODE -ne 0) { throw "initdb failed: $output" }
        # Loopback only; the password role proves password handling, everyone else is trusted.
        Set-Content (Join-Path $server.Data 'pg_hba.conf') @(
            'local all all trust'
            "host all $script:TestPostgresPasswordRole 127.0.0.1/32 scram-sha-256"
            "host all $script:TestPostgresPasswordRole ::1/128 scram-sha-256"
            'host all all 127.0.0.1/32 trust'
            'host all all ::1/128 trust'
        )
        # fsync off: a throwaway cluster, and CREATE DATABASE per test stays fast.
        $durability = if ($Durable) { '' } else { ' -c fsync=off -c full_page_writes=off' }
        for ($try = 1; $try -le 3; $try++) {
            $server.Port = Get-FreeLoopbackPort
            $options = "-p $($server.Port) -k $root -c listen_addresses=127.0.0.1$durability -c max_connections=300 -c shared_buffers=64MB"
            $start = @($runAs) + @((Join-Path $bin 'pg_ctl'), '-D', $server.Data, '-l', (Join-Path $root 'server.log'), '-w', '-t', '60', '-o', $options, 'start')
            $null = & $start[0] @($start | Select-Object -Skip 1) 2>&1
            if ($LASTEXITCODE -eq 0) { break }
            if ($try -eq 3) { throw "pg_ctl start failed: $(Get-Content (Join-Path $root 'server.log') -Raw -ErrorAction Ignore)" }
        }
        $server.ConnectionString = "Host=127.0.0.1;Port=$($server.Port);Username=postgres;Database=postgres"
        Write-Host "PostgreSQL tests: throwaway PostgreSQL server on 127.0.0.1:$($server.Port) (data in $($server.Data))."
        return $server
    }
    catch {
        Stop-TestPostgres $server
        Write-Host "PostgreSQL tests: could not start a server ($($_.Exception.Message)); running the SQLite backend only." -ForegroundColor Yellow
        return $null
    }
}

function Stop-TestPostgres($Server) {
    # Stops the server (immediately: the data is thrown away) and deletes its folder.
    if (-not $Server) { return }
    if (Test-Path (Join-Path $Server.Data 'postmaster.pid')) {
        $stop = @($Server.RunAs) + @((Join-Path $Server.Bin 'pg_ctl'), '-D', $Server.Data, '-m', 'immediate', '-w', '-t', '60', 'stop')
        $null = & $stop[0] @($stop | Select-Object -Skip 1) 2>&1
    }
    Remove-Item -Recurse -Force $Server.Root -ErrorAction Ignore
}

function Get-PostgresConnectionParts([string] $ConnectionString) {
    # The parts of an Npgsql connection string that psql needs (Host, Port, Username, Database).
    $parts = @{ Host = '127.0.0.1'; Port = '5432'; Username = 'postgres'; Database = 'postgres' }
    foreach ($pair in $ConnectionString -split ';') {
        if ($pair -match '^\s*([^=]+?)\s*=\s*(.*?)\s*$') {
            $name, $value = $Matches[1], $Matches[2]
            $key = switch -Regex ($name) { '^(?i)(host|server)$' { 'Host' } '^(?i)port$' { 'Port' } '^(?i)(username|user id|user)$' { 'Username' } '^(?i)database$' { 'Database' } default { $null } }
            if ($key) { $parts[$key] = $value }
        }
    }
    $parts
}

function Set-PostgresDatabaseName([string] $ConnectionString, [string] $Name) {
    # The connection string with its Database replaced (or added).
    if ($ConnectionString -match '(?i)(^|;)\s*Database\s*=') { return $ConnectionString -replace '(?i)((^|;)\s*Database\s*=)[^;]*', "`${1}$Name" }
    "$ConnectionString;Database=$Name"
}

function Invoke-Psql {
    # Runs SQL with psql from $Bin as the connection string's user on its database; returns the
    # rows as tab-separated lines. Throws when psql fails, unless -AllowFailure.
    param([Parameter(Mandatory)] [string] $ConnectionString, [Parameter(Mandatory)] [string] $Sql,
        [Parameter(Mandatory)] [string] $Bin, [switch] $AllowFailure)
    $p = Get-PostgresConnectionParts $ConnectionString
    $out = & (Join-Path $Bin 'psql') -X -q -A -t -F "`t" -v ON_ERROR_STOP=1 -h $p.Host -p $p.Port -U $p.Username -d $p.Database -c $Sql 2>&1
    if ($LASTEXITCODE -ne 0 -and -not $AllowFailure) { throw "psql failed ($LASTEXITCODE): $out" }
    $out
}

function New-PostgresDatabase {
    # An empty database <Prefix>_<random> on the server of an admin connection string; returns
    # the connection string for it.
    param([Parameter(Mandatory)] [string] $AdminConnectionString, [Parameter(Mandatory)] [string] $Bin, [string] $Prefix = 'jq')
    $name = $Prefix + '_' + [guid]::NewGuid().ToString('N')
    Invoke-Psql $AdminConnectionString "CREATE DATABASE $name STRATEGY FILE_COPY" -Bin $Bin | Out-Null
    Set-PostgresDatabaseName $AdminConnectionString $name
}
