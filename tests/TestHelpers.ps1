# Shared by every suite: dot-source it in BeforeAll.
$script:RepoRoot = Split-Path $PSScriptRoot -Parent
. (Join-Path $script:RepoRoot 'tools/BuildSupport.ps1')

Import-Module (Join-Path $script:RepoRoot 'JobQueue.psd1') -Force

function New-TestDatabase {
    # A fresh database path in a folder of its own under the test drive.
    $folder = Join-Path ([IO.Path]::GetTempPath()) ("jq-test-" + [guid]::NewGuid().ToString('N').Substring(0, 12))
    New-Item -ItemType Directory -Force $folder | Out-Null
    Join-Path $folder 'jobs.db'
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
