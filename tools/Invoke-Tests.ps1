# Runs the Pester suites in this (fresh) process and writes a small summary for build.ps1.
# When PostgreSQL is installed, one throwaway server serves the whole run: the suites find its
# admin connection string in $env:JOBQUEUE_TEST_POSTGRES (New-PostgresTestDatabase makes a
# database per test on it). It is stopped and deleted at the end, even when tests fail.
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $Summary,
    [Parameter(Mandatory)] [string] $ResultsFolder,
    # Last on the command line: pwsh -File passes each further argument as one more path.
    [Parameter(Mandatory, ValueFromRemainingArguments)] [string[]] $Path
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'TestPostgres.ps1')
Import-Module $PesterPath -Force

# Child processes write plain text: escape codes in captured errors would break the XML report.
$env:NO_COLOR = '1'
$server = Start-TestPostgres
try {
    if ($server) {
        $env:JOBQUEUE_TEST_POSTGRES = $server.ConnectionString
        $env:JOBQUEUE_TEST_POSTGRES_BIN = $server.Bin
    }
    else {
        Remove-Item Env:JOBQUEUE_TEST_POSTGRES, Env:JOBQUEUE_TEST_POSTGRES_BIN -ErrorAction Ignore
    }
    $config = New-PesterConfiguration
    $config.Run.Path = $Path
    $config.Run.PassThru = $true
    $config.Run.Exit = $false
    $config.Output.Verbosity = 'Detailed'
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputPath = Join-Path $ResultsFolder 'testResults.xml'
    $result = Invoke-Pester -Configuration $config
}
finally {
    Stop-TestPostgres $server
}
[pscustomobject]@{
    Passed     = $result.PassedCount
    Failed     = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped    = $result.SkippedCount
    NotRun     = $result.NotRunCount
    PostgreSQL = [bool]$server
} | ConvertTo-Json | Set-Content $Summary
if ($result.Result -ne 'Passed' -or $result.PassedCount -eq 0) { exit 1 }
exit 0
