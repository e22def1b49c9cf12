# The help as users get it (Get-Help, from the MAML the build generated): for every cmdlet the
# module exports, now and as later branches add cmdlets, and every example of every page run.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Help.Helpers.ps1')
    $coverage = @(Get-HelpCoverage)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Help.Helpers.ps1')
    $commonParameters = [System.Management.Automation.Cmdlet]::CommonParameters
}

Describe 'The help covers' {
    It 'every cmdlet of the module (the manifest lists them all)' {
        $exported = (Get-Command -Module JobQueue -CommandType Cmdlet).Name
        $listed = (Import-PowerShellDataFile (Join-Path $script:RepoRoot 'JobQueue.psd1')).CmdletsToExport
        $exported | Should -Not -BeNullOrEmpty
        $exported | Where-Object { $_ -notin $listed } | Should -BeNullOrEmpty
    }
}

Describe 'Help for <Name>' -ForEach $coverage {
    BeforeAll {
        $help = Get-Help $Name -Full
        $page = Read-HelpPage $PagePath
        $command = Get-Command $Name
        $parameters = @($command.Parameters.Keys | Where-Object { -not $commonParameters.Contains($_) })
        $shownParameters = @{}
        foreach ($shown in $help.parameters.parameter) { $shownParameters[$shown.name] = $shown }
    }

    It 'shows the synopsis of its page' {
        $page.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Be $page.Synopsis
    }

    It 'has a description' {
        ($help.description.Text -join "`n").Trim() | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        $parameters | Should -Not -BeNullOrEmpty
        $undescribed = foreach ($p in $parameters) {
            $text = ($shownParameters[$p].description.Text -join "`n").Trim()
            if (-not $text) { $p }
        }
        $undescribed | Should -BeNullOrEmpty
    }

    It 'shows each parameter as the cmdlet declares it (type, required, position, pipeline input)' {
        $wrong = foreach ($p in $parameters) {
            $meta = $command.Parameters[$p]
            $sets = @($meta.ParameterSets.Values)
            $shown = $shownParameters[$p]
            if (-not $shown) { "-${p}: not in the help"; continue }
            $type = $meta.ParameterType
            $element = if ($type.IsArray) { $type.GetElementType() } else { $type }
            $element = if ([Nullable]::GetUnderlyingType($element)) { [Nullable]::GetUnderlyingType($element) } else { $element }
            $expectedType = $element.FullName + $(if ($type.IsArray) { '[]' })
            $expectedRequired = -not ($sets | Where-Object { -not $_.IsMandatory })
            $positions = @($sets | Where-Object Position -GE 0 | ForEach-Object Position)
            $expectedPosition = if ($positions.Count) { "$($positions[0])" } else { 'named' }
            $byValue = [bool]($sets | Where-Object ValueFromPipeline)
            $byName = [bool]($sets | Where-Object ValueFromPipelineByPropertyName)
            if ($shown.type.name -ne $expectedType) { "-${p}: type '$($shown.type.name)', declared '$expectedType'" }
            if ($shown.required -ne "$expectedRequired".ToLowerInvariant()) { "-${p}: required '$($shown.required)', declared $expectedRequired" }
            if ($shown.position -ne $expectedPosition) { "-${p}: position '$($shown.position)', declared $expectedPosition" }
            if (($shown.pipelineInput -match 'ByValue') -ne $byValue -or ($shown.pipelineInput -match 'ByPropertyName') -ne $byName) {
                "-${p}: pipeline input '$($shown.pipelineInput)', declared ByValue=$byValue ByPropertyName=$byName"
            }
        }
        $wrong | Should -BeNullOrEmpty
    }

    It 'shows the examples of its page, at least one of which the suite runs' {
        $shown = @($help.examples.example)
        $shown.Count | Should -BeGreaterThan 0
        $shown.Count | Should -Be $page.Examples.Count
        for ($i = 0; $i -lt $shown.Count; $i++) {
            $shown[$i].code | Should -Be $page.Examples[$i].Code
            ($shown[$i].remarks.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        }
        @($page.Examples | Where-Object { -not $_.NoRun }).Count | Should -BeGreaterThan 0
    }

    Context 'Examples' {
        BeforeAll {
            # The code Get-Help shows, run in one child pwsh per cmdlet, a fresh database each.
            $shown = @($help.examples.example)
            $toRun = foreach ($example in $page.Examples | Where-Object { -not $_.NoRun }) {
                [pscustomobject]@{ Number = $example.Number; Code = $shown[$example.Number - 1].code }
            }
            $results = @{}
            foreach ($result in (Invoke-HelpExample -Example $toRun)) { $results[[int]$result.Number] = $result }
        }

        It 'Example <Number> runs without an error: <Title>' -ForEach $Runnable {
            $result = $results[$Number]
            $result | Should -Not -BeNullOrEmpty
            $result.Passed | Should -BeTrue -Because (($result.Errors -join '; ') + "`nOutput:`n" + $result.Output)
        }
    }
}

Describe 'about_JobQueue' {
    It 'is shown by Get-Help about_JobQueue' {
        $text = Get-Help about_JobQueue | Out-String
        $text | Should -Match 'about_JobQueue'
        $text | Should -Match 'SHORT DESCRIPTION'
        $text | Should -Match 'JOBQUEUE_DATABASE'
        $text | Should -Match 'JobNotFound'
    }
}

Describe 'The help build' {
    BeforeAll {
        $folder = Join-Path ([IO.Path]::GetTempPath()) ("jq-help-build-" + [guid]::NewGuid().ToString('N').Substring(0, 12))
        $source = Join-Path $folder 'docs'
        Copy-Item -Recurse (Join-Path $script:RepoRoot 'docs/en-US') $source
        function Edit-Page([string] $Name, [scriptblock] $Change) {
            $path = Join-Path $source "$Name.md"
            Set-Content -LiteralPath $path -Value (& $Change (Get-Content -LiteralPath $path -Raw)) -NoNewline
        }
    }
    AfterAll { Remove-Item -Recurse -Force $folder -ErrorAction Ignore }

    It 'stops, naming every page that is missing, incomplete or out of date, and writes no help' {
        Remove-Item (Join-Path $source 'Backup-JobQueue.md')
        Edit-Page Get-JobQueueStatistics { param($t) $t -replace '(?s)## SYNOPSIS\n.*?\n\n', "## SYNOPSIS`n`n" }
        Edit-Page Get-TrainingJobLog { param($t) $t -replace '(?s)### -Tail\n.*?(?=### -Wait)', '' }
        Edit-Page Restart-TrainingJob { param($t) $t -replace '(?s)## EXAMPLES\n.*?(?=## PARAMETERS)', "## EXAMPLES`n`n" }
        Edit-Page Stop-TrainingJob { param($t) $t -replace '\[-PassThru\] ', '' }
        Edit-Page Wait-TrainingJob { param($t) $t -replace 'Default value: 00:00:00.25', "Type: TimeSpan`nDefault value: 00:00:00.25" }
        Copy-Item (Join-Path $source 'Get-TrainingJob.md') (Join-Path $source 'Get-Nothing.md')
        Edit-Page Get-Nothing { param($t) $t -replace '# Get-TrainingJob\n', "# Get-Nothing`n" }
        $destination = Join-Path $folder 'en-US'

        $run = Invoke-PwshFile (Join-Path $script:RepoRoot 'tools/New-MamlHelp.ps1') @('-Source', $source, '-Destination', $destination)

        $run.ExitCode | Should -Be 1
        $run.Error | Should -Match 'The help cannot be built: 7 problem'
        $run.Error | Should -Match 'Backup-JobQueue is exported by JobQueue.psd1 but has no help page'
        $run.Error | Should -Match 'Get-JobQueueStatistics.md: it needs a ## SYNOPSIS'
        $run.Error | Should -Match 'Get-TrainingJobLog.md: -Tail is not described'
        $run.Error | Should -Match 'Restart-TrainingJob.md: it needs at least one example'
        $run.Error | Should -Match 'Stop-TrainingJob.md: its ## SYNTAX differs'
        $run.Error | Should -Match "Wait-TrainingJob.md: -PollInterval: 'Type' in the yaml block"
        $run.Error | Should -Match 'Get-Nothing.md describes Get-Nothing, which JobQueue.psd1 does not export'
        Join-Path $destination 'JobQueue.dll-Help.xml' | Should -Not -Exist
    }

    It 'reads an example marked no-run as one the suite does not run' {
        $path = Join-Path $folder 'Start-Something.md'
        Set-Content -LiteralPath $path -Value @(
            '# Start-Something', '', '## SYNOPSIS', 'Starts something.', '', '## EXAMPLES', '',
            '### Example 1: Run until stopped', '```powershell no-run', 'Start-Something', '```', '', 'Runs until Ctrl+C.', '',
            '### Example 2: Run once', '```powershell', 'Start-Something -Once', '```', '', 'Runs once.')
        $page = Read-HelpPage $path
        $page.Problems | Should -BeNullOrEmpty
        $page.Examples.NoRun | Should -Be @($true, $false)
        $page.Examples[0].Code | Should -Be 'Start-Something'
    }
}
