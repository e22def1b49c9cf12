# Helpers of tests/Help.Tests.ps1. Dot-source after TestHelpers.ps1.
. (Join-Path $script:RepoRoot 'tools/HelpMarkdown.ps1')

function Invoke-PwshFile {
    # Runs a script file in a new pwsh (-File, so its exit code is the process's); returns
    # ExitCode, Output and Error. A process that outlives the timeout is killed.
    param(
        [Parameter(Mandatory)] [string] $Path,
        [string[]] $Arguments = @(),
        [int] $TimeoutSeconds = 900
    )
    $launcher = Get-PwshLauncher
    $psi = [Diagnostics.ProcessStartInfo]::new($launcher[0])
    foreach ($a in @($launcher | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $Path) + $Arguments) {
        $psi.ArgumentList.Add($a)
    }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $p = [Diagnostics.Process]::Start($psi)
    $stdout = $p.StandardOutput.ReadToEndAsync()
    $stderr = $p.StandardError.ReadToEndAsync()
    if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
        $p.Kill($true)
        throw "pwsh -File $Path did not finish within $TimeoutSeconds s."
    }
    $p.WaitForExit()
    [pscustomobject]@{ ExitCode = $p.ExitCode; Output = $stdout.Result; Error = $stderr.Result }
}

function Invoke-HelpExample {
    # Runs examples (objects with Number and Code) in one child pwsh, each in a fresh runspace
    # against a fresh database (tests/Help.ExampleRunner.ps1); returns a result per example.
    param([Parameter(Mandatory)] [object[]] $Example)
    $folder = Join-Path ([IO.Path]::GetTempPath()) ("jq-help-run-" + [guid]::NewGuid().ToString('N').Substring(0, 12))
    New-Item -ItemType Directory -Force $folder | Out-Null
    try {
        $examplesPath = Join-Path $folder 'examples.json'
        $resultsPath = Join-Path $folder 'results.json'
        ConvertTo-Json -InputObject @($Example | Select-Object Number, Code) | Set-Content -LiteralPath $examplesPath -Encoding utf8
        $run = Invoke-PwshFile (Join-Path $script:RepoRoot 'tests/Help.ExampleRunner.ps1') @(
            '-ModulePath', (Join-Path $script:RepoRoot 'JobQueue.psd1'), '-ExamplesPath', $examplesPath, '-ResultsPath', $resultsPath)
        if ($run.ExitCode -ne 0 -or -not (Test-Path $resultsPath)) {
            throw "The example runner failed (exit code $($run.ExitCode)): $($run.Error)$($run.Output)"
        }
        @(Get-Content -LiteralPath $resultsPath -Raw | ConvertFrom-Json)
    }
    finally {
        Remove-Item -Recurse -Force $folder -ErrorAction Ignore
    }
}

function Get-HelpCoverage {
    # What the suite checks for each cmdlet the manifest exports: its name and the examples of
    # its page (number, title, whether marked no-run). Used at discovery, before the module loads.
    $manifest = Import-PowerShellDataFile (Join-Path $script:RepoRoot 'JobQueue.psd1')
    foreach ($name in $manifest.CmdletsToExport) {
        $page = Join-Path $script:RepoRoot "docs/en-US/$name.md"
        $examples = if (Test-Path $page) {
            @((Read-HelpPage $page).Examples | ForEach-Object { @{ Number = $_.Number; Title = $_.Title; NoRun = $_.NoRun } })
        }
        @{ Name = $name; PagePath = $page; Runnable = @($examples | Where-Object { -not $_.NoRun }) }
    }
}
