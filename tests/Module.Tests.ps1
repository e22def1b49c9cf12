BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

Describe 'The module' {
    It 'imports from the repository root and exports every lifecycle cmdlet' {
        $names = (Get-Command -Module JobQueue).Name
        foreach ($name in 'Initialize-JobQueue', 'Submit-TrainingJob', 'Get-TrainingJob', 'Receive-TrainingJob',
            'Complete-TrainingJob', 'Stop-TrainingJob', 'Restart-TrainingJob', 'Remove-TrainingJob', 'Wait-TrainingJob',
            'Write-TrainingJobLog', 'Get-TrainingJobLog', 'Get-JobQueueStatistics', 'Backup-JobQueue') {
            $names | Should -Contain $name
        }
    }

    It 'loads SQLite natively inside the module (no DllNotFoundException) in a fresh process' {
        $db = New-TestDatabase
        $r = Invoke-Pwsh "(Initialize-JobQueue -Database '$db').JournalMode"
        $r.ExitCode | Should -Be 0 -Because $r.Error
        $r.Output.Trim() | Should -Be 'wal'
    }
}
