# Helpers for the job-lifecycle conformance suites. Dot-source it in BeforeAll after TestHelpers.ps1.
# Everything here works on any backend, except what is named Sqlite, which reads the file with the
# sqlite3 command (as the guide's troubleshooting section does).

function Get-SqliteBackend {
    # For Describe blocks about the SQLite file itself (sqlite3, PRAGMAs, raw bytes):
    # Describe '... (<_>)' -ForEach (Get-SqliteBackend) { ... }
    Get-TestBackend | Where-Object { $_ -eq 'SQLite' }
}

function Test-SqliteDatabase([string] $Database) {
    $Database -notmatch '^postgres(ql)?://' -and $Database -notmatch 'Host='
}

function Invoke-Sqlite {
    # Runs the sqlite3 command on a database file and returns its output lines; fails the test on an error.
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string[]] $Sql)
    $output = & sqlite3 -batch $Path @Sql 2>&1
    if ($LASTEXITCODE -ne 0) { throw "sqlite3 $Path $Sql failed ($LASTEXITCODE): $output" }
    $output | ForEach-Object { "$_" }
}

function Get-QueueSnapshot {
    # Everything a user could observe about a queue, as text, to prove that a failed command changed
    # nothing: every job with all its columns, every log line, and for an SQLite file a full
    # sqlite3 .dump plus the schema version.
    param([Parameter(Mandatory)] [string] $Database)
    $lines = [Collections.Generic.List[string]]::new()
    foreach ($job in Get-TrainingJob -Database $Database) {
        $lines.Add(($job | Select-Object -Property * -ExcludeProperty Duration, Config | ConvertTo-Json -Compress -Depth 5))
        foreach ($entry in Get-TrainingJobLog -Database $Database -Id $job.JobId) {
            $lines.Add(($entry | ConvertTo-Json -Compress))
        }
    }
    if (Test-SqliteDatabase $Database) {
        $lines.AddRange([string[]](Invoke-Sqlite $Database '.dump'))
        $lines.AddRange([string[]](Invoke-Sqlite $Database 'PRAGMA user_version; PRAGMA application_id;'))
    }
    $lines -join "`n"
}

function Get-ThrownError {
    # Runs a command that must fail and returns the ErrorRecord; the command should use
    # -ErrorAction Stop so that non-terminating errors are caught too.
    param([Parameter(Mandatory)] [scriptblock] $Script)
    try {
        & $Script | Out-Null
    }
    catch {
        return $_
    }
    throw 'The command was expected to fail, but it succeeded.'
}

function New-TestFolder {
    # An empty temporary folder of its own for files a test makes (configs, backups, scripts).
    $folder = Join-Path ([IO.Path]::GetTempPath()) ('jq-files-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
    New-Item -ItemType Directory -Force $folder | Out-Null
    $folder
}

function Wait-Until {
    # Polls a condition with a generous limit; never a timing assertion, only a guard against hangs.
    param([Parameter(Mandatory)] [scriptblock] $Condition, [int] $TimeoutSeconds = 120, [string] $Because = 'the condition')
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSeconds s waiting for $Because." }
        Start-Sleep -Milliseconds 100
    }
}
