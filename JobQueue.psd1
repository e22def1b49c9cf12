@{
    RootModule           = 'bin/JobQueue.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f1f3c1e-8d2a-4b8e-9a51-2f0c7e4d9b13'
    Author               = 'JobQueue contributors'
    CompanyName          = 'JobQueue'
    Copyright            = '(c) JobQueue contributors. MIT License.'
    Description          = 'A job queue for machine-learning work: priority queue with atomic claiming, retries, per-job logs, cron schedules and GPU-aware workers, on SQLite (embedded) or PostgreSQL.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('JobQueue.format.ps1xml')
    TypesToProcess       = @('JobQueue.types.ps1xml')
    CmdletsToExport      = @(
        'Initialize-JobQueue'
        'Submit-TrainingJob'
        'Get-TrainingJob'
        'Receive-TrainingJob'
        'Complete-TrainingJob'
        'Stop-TrainingJob'
        'Restart-TrainingJob'
        'Remove-TrainingJob'
        'Wait-TrainingJob'
        'Write-TrainingJobLog'
        'Get-TrainingJobLog'
        'Get-JobQueueStatistics'
        'Backup-JobQueue'
        'Copy-JobQueue'
        'New-JobSchedule'
        'Get-JobSchedule'
        'Set-JobSchedule'
        'Enable-JobSchedule'
        'Disable-JobSchedule'
        'Remove-JobSchedule'
        'Invoke-JobScheduler'
        'Start-JobScheduler'
        'Start-JobWorker'
        'Get-JobWorker'
        'Stop-JobWorker'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('queue', 'jobs', 'scheduler', 'cron', 'mlops', 'training', 'gpu', 'sqlite', 'postgresql')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}
