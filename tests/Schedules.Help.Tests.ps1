# The schedule cmdlets' help pages: every parameter described, and every example runs as
# written against a fresh default queue (the way the help suite runs all pages).
BeforeDiscovery {
    $docs = Join-Path (Split-Path $PSScriptRoot -Parent) 'docs/en-US'
    $commands = 'New-JobSchedule', 'Get-JobSchedule', 'Set-JobSchedule', 'Enable-JobSchedule', 'Disable-JobSchedule',
        'Remove-JobSchedule', 'Invoke-JobScheduler', 'Start-JobScheduler'
    $examples = foreach ($command in $commands) {
        $text = Get-Content (Join-Path $docs "$command.md") -Raw
        $found = [regex]::Matches($text, '(?ms)^### (Example \d+: [^\r\n]+)\r?\n```powershell(?<mark>[^\r\n]*)\r?\n(?<code>.*?)^```')
        foreach ($m in $found) {
            if ($m.Groups['mark'].Value.Trim() -ne 'no-run') {
                @{ Command = $command; Title = $m.Groups[1].Value; Code = $m.Groups['code'].Value }
            }
        }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $docs = Join-Path (Split-Path $PSScriptRoot -Parent) 'docs/en-US'
    $psd1 = Join-Path (Split-Path $PSScriptRoot -Parent) 'JobQueue.psd1'
}

Describe 'Help page of <_>' -ForEach 'New-JobSchedule', 'Get-JobSchedule', 'Set-JobSchedule', 'Enable-JobSchedule', 'Disable-JobSchedule', 'Remove-JobSchedule', 'Invoke-JobScheduler', 'Start-JobScheduler' {
    It 'has the sections in order and describes exactly the cmdlet''s parameters' {
        $text = Get-Content (Join-Path $docs "$_.md") -Raw
        $headings = [regex]::Matches($text, '(?m)^## (\S.*)$') | ForEach-Object { $_.Groups[1].Value.Trim() }
        $headings | Should -Be @('SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS')
        $text | Should -Match "(?m)^# $_\r?$"
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        $parameters = (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin $common } | Sort-Object
        $parametersSection = ($text -split '(?m)^## PARAMETERS')[1] -split '(?m)^## INPUTS' | Select-Object -First 1
        $described = [regex]::Matches($parametersSection, '(?m)^### -(\w+)') | ForEach-Object { $_.Groups[1].Value } | Sort-Object
        $described | Should -Be $parameters
    }
}

Describe 'Help example: <Command> <Title>' -ForEach $examples {
    It 'runs as written against a fresh default queue, without errors' {
        $folder = Join-Path ([IO.Path]::GetTempPath()) ('jq-help-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory $folder | Out-Null
        $saved = $env:JOBQUEUE_DATABASE
        $env:JOBQUEUE_DATABASE = Join-Path $folder 'queue/jobs.db'
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$psd1'; Set-Location '$folder'").AddStatement().AddScript($Code)
            $handle = $ps.BeginInvoke()
            $handle.AsyncWaitHandle.WaitOne(60000) | Should -BeTrue -Because 'an example ends within 60 seconds'
            $null = $ps.EndInvoke($handle)
            ($ps.Streams.Error | ForEach-Object { "$_" }) -join "`n" | Should -BeNullOrEmpty
        } finally {
            if ($ps.InvocationStateInfo.State -eq 'Running') { $ps.Stop() }
            $ps.Dispose()
            $env:JOBQUEUE_DATABASE = $saved
        }
    }
}
