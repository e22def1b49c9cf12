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
    # The name carries this process's id, so Remove-TestFolders removes exactly what this run made.
    $folder = Join-Path ([IO.Path]::GetTempPath()) ("jq-files-$PID-" + [guid]::NewGuid().ToString('N').Substring(0, 12))
    New-Item -ItemType Directory -Force $folder | Out-Null
    $folder
}

function Remove-TestFolders {
    # For AfterAll: deletes the folders New-TestFolder made in this process.
    Get-ChildItem ([IO.Path]::GetTempPath()) -Directory -Filter "jq-files-$PID-*" |
        Remove-Item -Recurse -Force -ErrorAction SilentlyContinue
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

function Start-QueueWriter {
    # Another process that keeps submitting, claiming, logging and completing jobs of its own type
    # (writer-load) until Stop-QueueWriter, for tests of what must work while workers run.
    # Returns once it has written.
    param([Parameter(Mandatory)] [string] $Database)
    $folder = New-TestFolder
    $writer = [pscustomobject]@{
        Stop    = Join-Path $folder 'stop'
        Ready   = Join-Path $folder 'ready'
        Count   = Join-Path $folder 'count'
        Process = $null
    }
    $writer.Process = Start-Pwsh @"
`$n = 0
while (-not (Test-Path '$($writer.Stop)')) {
    Submit-TrainingJob -Database '$Database' -Type writer-load -Config @{ n = `$n } | Out-Null
    `$job = Receive-TrainingJob -Database '$Database' -WorkerId 'busy-writer' -Type writer-load
    Write-TrainingJobLog -Database '$Database' -Id `$job.JobId -Message "step `$n"
    `$job | Complete-TrainingJob
    `$n++
    if (`$n -eq 1) { Set-Content -LiteralPath '$($writer.Ready)' -Value 'writing' }
    Start-Sleep -Milliseconds 5
}
Set-Content -LiteralPath '$($writer.Count)' -Value `$n
"@
    Wait-Until { (Test-Path $writer.Ready) -or $writer.Process.HasExited } -Because 'the writer process to start writing'
    if ($writer.Process.HasExited) { throw "The writer process ended early with exit code $($writer.Process.ExitCode)." }
    $writer
}

function Stop-QueueWriter {
    # Stops the writer and returns how many jobs it wrote; fails if it hit any error.
    param([Parameter(Mandatory)] $Writer)
    Set-Content -LiteralPath $Writer.Stop -Value 'stop'
    if (-not $Writer.Process.WaitForExit(120000)) {
        $Writer.Process.Kill($true)
        throw 'The writer process did not stop.'
    }
    if ($Writer.Process.ExitCode -ne 0) { throw "The writer process failed with exit code $($Writer.Process.ExitCode)." }
    [int](Get-Content -LiteralPath $Writer.Count)
}
