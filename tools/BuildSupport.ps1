# Helpers shared by build.ps1 and the test runner. Dot-source it.

function Write-Step([string] $Name) {
    Write-Host "==> $Name" -ForegroundColor Cyan
}

function Invoke-Native {
    # Runs a program and stops the build when it fails.
    $exe, $rest = $args
    & $exe @rest
    if ($LASTEXITCODE -ne 0) { throw "'$exe $($rest -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Get-PwshLauncher {
    # The command line that starts this same PowerShell in a new process: the pwsh executable
    # when there is one, else 'dotnet pwsh.dll' (PowerShell as a local .NET tool).
    $exe = Join-Path $PSHOME ($(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' }))
    if (Test-Path $exe -PathType Leaf) { return , @($exe) }
    return , @([Environment]::ProcessPath, (Join-Path $PSHOME 'pwsh.dll'))
}

function Get-PesterModulePath([string] $Version) {
    # Pester comes from NuGet as a package whose tools/ folder is the module; a throwaway
    # project with PackageDownload puts it into the NuGet package folder.
    $packages = (& dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
    $psd1 = Join-Path $packages.Trim() "pester/$Version/tools/Pester.psd1"
    if (-not (Test-Path $psd1)) {
        $project = Join-Path ([IO.Path]::GetTempPath()) "jobqueue-pester-$Version"
        New-Item -ItemType Directory -Force $project | Out-Null
        Set-Content (Join-Path $project 'pester.csproj') @"
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net8.0</TargetFramework></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$Version]" /></ItemGroup>
</Project>
"@
        Invoke-Native dotnet restore $project --nologo -v quiet
    }
    if (-not (Test-Path $psd1)) { throw "Pester $Version was not found at $psd1 after restore." }
    return $psd1
}
