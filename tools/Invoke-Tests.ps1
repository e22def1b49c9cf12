# Runs the Pester suites in this (fresh) process and writes a small summary for build.ps1.
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $Summary,
    [Parameter(Mandatory)] [string] $ResultsFolder,
    # Last on the command line: pwsh -File passes each further argument as one more path.
    [Parameter(Mandatory, ValueFromRemainingArguments)] [string[]] $Path
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Run.Exit = $false
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputPath = Join-Path $ResultsFolder 'testResults.xml'
$result = Invoke-Pester -Configuration $config
[pscustomobject]@{
    Passed  = $result.PassedCount
    Failed  = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
    Skipped = $result.SkippedCount
    NotRun  = $result.NotRunCount
} | ConvertTo-Json | Set-Content $Summary
if ($result.Result -ne 'Passed' -or $result.PassedCount -eq 0) { exit 1 }
exit 0
