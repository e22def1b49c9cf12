# The demo that `build.ps1 -Task Demo` runs: a real session that must keep working as the module changes.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

Describe 'tools/Demo.ps1 on a temporary queue (<_>)' -ForEach (Get-SqliteBackend) {
    BeforeAll {
        $launcher = Get-PwshLauncher
        $output = & $launcher[0] @(@($launcher | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $RepoRoot 'tools/Demo.ps1'))) 2>&1
        $exitCode = $LASTEXITCODE
        $text = ($output | ForEach-Object { "$_" }) -join "`n"
    }

    It 'runs every step and exits 0' {
        $exitCode | Should -Be 0 -Because $text
        foreach ($step in 'A fresh queue', 'Submit jobs', 'Submit a small batch', 'List the queue', 'Claim a job', 'Log progress',
            'Complete it', 'A failure, retried after a backoff', 'It fails for good', 'Restart failed jobs', 'Cancel', 'Statistics', 'Backup') {
            $text | Should -Match "=== $([regex]::Escape($step))"
        }
        $text | Should -Match 'The demo finished'
    }

    It 'shows real output tables' {
        $text | Should -Match 'PS> Receive-TrainingJob -WorkerId worker-01'
        $text | Should -Match 'training\s+bert-base\s+running\s+7\s+0/3\s+worker-01'
        $text | Should -Match 'WARNING\s+GPU memory at 85%'
        $text | Should -Match 'export\s+export-onnx\s+failed\s+6\s+1/1\s+worker-02'
    }

    It 'deletes its temporary folder' {
        $text | Should -Match 'Deleted the demo folder (\S+)\.'
        $folder = [regex]::Match($text, 'Deleted the demo folder (\S+)\.').Groups[1].Value
        Test-Path -LiteralPath $folder | Should -BeFalse
    }
}
