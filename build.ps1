#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds, tests, documents, demonstrates and benchmarks the JobQueue module.

.DESCRIPTION
    One entry point for people and CI. Run it with the repository's own PowerShell:

        dotnet tool restore
        dotnet pwsh ./build.ps1                 # Build (default): the module in place, importable as ./JobQueue.psd1
        dotnet pwsh ./build.ps1 -Task Test      # build, then the Pester suites in a fresh pwsh
        dotnet pwsh ./build.ps1 -Task Demo      # build, then a real session on a temporary SQLite database
        dotnet pwsh ./build.ps1 -Task Help      # the MAML help from docs/en-US
        dotnet pwsh ./build.ps1 -Task Chaos -Minutes 10 -Seed 7   # build, then the chaos run (Linux)
        dotnet pwsh ./build.ps1 -Task Chaos -Minutes 10 -Seed 7 -Backend PostgreSQL

.PARAMETER Task
    Build, Test, Help, Demo, Bench, Chaos or Clean.

.PARAMETER TestPath
    With -Task Test: run only these test files or folders.

.PARAMETER Quick
    With -Task Bench: a short pass.

.PARAMETER Minutes
    With -Task Chaos: how long workers, scheduler, submitter, user and killer run (default 1).

.PARAMETER Seed
    With -Task Chaos: the seed of the random choices (kills, restarts, submissions).

.PARAMETER Backend
    With -Task Chaos: the queue's backend, SQLite (default: one file) or PostgreSQL (a new
    database on the server of $env:JOBQUEUE_TEST_POSTGRES, else on a throwaway server started
    for the run from the installed PostgreSQL binaries).
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Help', 'Demo', 'Bench', 'Chaos', 'Clean')]
    [string[]] $Task = @('Build'),

    [string[]] $TestPath,

    [string] $Configuration = 'Release',

    [switch] $Quick,

    [double] $Minutes = 1,

    [int] $Seed = 1,

    [ValidateSet('SQLite', 'PostgreSQL')]
    [string] $Backend = 'SQLite'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
$Bin = Join-Path $Root 'bin'
$PesterVersion = '5.7.1'

. (Join-Path $Root 'tools/BuildSupport.ps1')

function Invoke-Build {
    Write-Step 'Build'
    $engineProject = Join-Path $Root 'src/JobQueue.Engine/JobQueue.Engine.csproj'
    $cmdletProject = Join-Path $Root 'src/JobQueue/JobQueue.csproj'
    $staging = Join-Path $Root 'out/build'
    Remove-Item -Recurse -Force $staging -ErrorAction Ignore

    Invoke-Native dotnet publish $engineProject -c $Configuration -o (Join-Path $staging 'deps') --nologo -v quiet
    Invoke-Native dotnet publish $cmdletProject -c $Configuration -o (Join-Path $staging 'cmdlets') --nologo -v quiet

    # The module layout: the cmdlet assembly in bin/, the engine and its dependencies in bin/deps/
    # (loaded into a private AssemblyLoadContext, never by PowerShell's own probing).
    Remove-Item -Recurse -Force $Bin -ErrorAction Ignore
    New-Item -ItemType Directory -Force $Bin | Out-Null
    Copy-Item (Join-Path $staging 'cmdlets/JobQueue.dll'), (Join-Path $staging 'cmdlets/JobQueue.pdb') $Bin
    $deps = Join-Path $Bin 'deps'
    Copy-Item -Recurse (Join-Path $staging 'deps') $deps
    Get-ChildItem $deps -Filter '*.deps.json' | Remove-Item
    # Native SQLite for the platforms PowerShell 7 runs on; the rest only add size.
    $keep = 'linux-x64', 'linux-arm64', 'linux-musl-x64', 'linux-musl-arm64', 'osx-x64', 'osx-arm64', 'win-x64', 'win-arm64', 'win-x86'
    Get-ChildItem (Join-Path $deps 'runtimes') -Directory -ErrorAction Ignore |
        Where-Object Name -NotIn $keep | Remove-Item -Recurse -Force
    Invoke-HelpBuild
    Write-Host "Built the module: Import-Module $(Join-Path $Root 'JobQueue.psd1')"
}

function Invoke-HelpBuild {
    Write-Step 'Help'
    if (-not (Test-Path (Join-Path $Bin 'JobQueue.dll'))) {
        throw 'The help is made from the built cmdlets: build first (dotnet pwsh ./build.ps1).'
    }
    # The generator imports the built module, so it runs in a pwsh of its own: this process
    # never loads the assembly (it could not load a newer one after the next build).
    $launcher = Get-PwshLauncher
    $arguments = @($launcher | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/New-MamlHelp.ps1'),
        '-Source', (Join-Path $Root 'docs/en-US'), '-Destination', (Join-Path $Root 'en-US'), '-ModulePath', (Join-Path $Root 'JobQueue.psd1'))
    & $launcher[0] @arguments
    if ($LASTEXITCODE -ne 0) { throw "The help build failed (exit code $LASTEXITCODE); the problems are listed above." }
}

function Invoke-Test {
    Invoke-Build
    Write-Step 'Test'
    $pester = Get-PesterModulePath -Version $PesterVersion
    $paths = if ($TestPath) { $TestPath | ForEach-Object { (Resolve-Path $_).Path } } else { @(Join-Path $Root 'tests') }
    $results = Join-Path $Root 'tests/results'
    New-Item -ItemType Directory -Force $results | Out-Null
    $summary = Join-Path $results 'summary.json'
    Remove-Item $summary -ErrorAction Ignore

    # A fresh pwsh: the module's assembly is loaded there for the first time.
    $runner = Join-Path $Root 'tools/Invoke-Tests.ps1'
    $launcher = Get-PwshLauncher
    $arguments = @($launcher | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $runner,
        '-PesterPath', $pester, '-Summary', $summary, '-ResultsFolder', $results) + $paths
    & $launcher[0] @arguments
    $code = $LASTEXITCODE
    if (Test-Path $summary) {
        $s = Get-Content $summary -Raw | ConvertFrom-Json
        Write-Host ''
        Write-Host ("Tests: {0} passed, {1} failed" -f $s.Passed, $s.Failed)
    }
    if ($code -ne 0) { throw "Tests failed (exit code $code)." }
}

function Invoke-Demo {
    Invoke-Build
    Write-Step 'Demo'
    $launcher = Get-PwshLauncher
    & $launcher[0] @(@($launcher | Select-Object -Skip 1) + @('-NoProfile', '-File', (Join-Path $Root 'tools/Demo.ps1')))
    if ($LASTEXITCODE -ne 0) { throw "The demo failed (exit code $LASTEXITCODE)." }
}

function Invoke-Bench {
    Invoke-Build
    Write-Step 'Bench'
    $runner = Join-Path $Root 'bench/Invoke-Benchmarks.ps1'
    if (-not (Test-Path $runner)) { throw 'The benchmark runner bench/Invoke-Benchmarks.ps1 is missing.' }
    $launcher = Get-PwshLauncher
    $arguments = @($launcher | Select-Object -Skip 1) + @('-NoProfile', '-File', $runner)
    if ($Quick) { $arguments += '-Quick' }
    & $launcher[0] @arguments
    if ($LASTEXITCODE -ne 0) { throw "The benchmarks failed (exit code $LASTEXITCODE)." }
}

function Invoke-Chaos {
    Invoke-Build
    Write-Step 'Chaos'
    # A fresh pwsh: the runner imports the module just built.
    $launcher = Get-PwshLauncher
    $arguments = @($launcher | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/Chaos.ps1'),
        '-Minutes', $Minutes, '-Seed', $Seed, '-Backend', $Backend)
    & $launcher[0] @arguments
    if ($LASTEXITCODE -ne 0) { throw "The chaos run found violations or failed (exit code $LASTEXITCODE)." }
}

function Invoke-Clean {
    Write-Step 'Clean'
    foreach ($path in 'bin', 'out', 'en-US', 'tests/results', 'src/JobQueue/bin', 'src/JobQueue/obj', 'src/JobQueue.Engine/bin', 'src/JobQueue.Engine/obj') {
        Remove-Item -Recurse -Force (Join-Path $Root $path) -ErrorAction Ignore
    }
}

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Build }
        'Test' { Invoke-Test }
        'Help' { Invoke-HelpBuild }
        'Demo' { Invoke-Demo }
        'Bench' { Invoke-Bench }
        'Chaos' { Invoke-Chaos }
        'Clean' { Invoke-Clean }
    }
}
