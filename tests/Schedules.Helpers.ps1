# Helpers for the schedule suites. Dot-source after TestHelpers.ps1.

function Invoke-SchedulerMinutes {
    # Runs one Invoke-JobScheduler pass per minute from -From (inclusive) to -To (exclusive), the
    # way cron would, and returns the jobs the passes created.
    param(
        [Parameter(Mandatory)] [string] $Database,
        [Parameter(Mandatory)] [DateTimeOffset] $From,
        [Parameter(Mandatory)] [DateTimeOffset] $To
    )
    for ($t = $From; $t -lt $To; $t = $t.AddMinutes(1)) {
        Invoke-JobScheduler -Database $Database -Now $t -WarningAction SilentlyContinue
    }
}

function ConvertTo-UtcText {
    # A job's ScheduledFor (or a schedule's NextRun), local time, as 'yyyy-MM-ddTHH:mmZ' in UTC.
    param([Parameter(ValueFromPipeline)] $Time)
    process {
        if ($null -ne $Time) { ([datetime]$Time).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm') + 'Z' }
    }
}

function Get-ScheduleJobTimes {
    # The UTC occurrence times of the jobs a schedule created, oldest first.
    param([Parameter(Mandatory)] [string] $Database, [Parameter(Mandatory)] [long] $ScheduleId)
    Get-TrainingJob -Database $Database -ScheduleId $ScheduleId |
        Sort-Object ScheduledFor | ForEach-Object { $_.ScheduledFor | ConvertTo-UtcText }
}

function Get-ErrorFrom {
    # Runs a script block (whose command uses -ErrorAction Stop) and returns the error record it raised.
    param([Parameter(Mandatory)] [scriptblock] $Script)
    try { & $Script | Out-Null } catch { return $_ }
    throw 'Expected an error, but the command succeeded.'
}

function Get-DatabaseSnapshot {
    # Everything a failed command must leave untouched: schedules and jobs, as comparable text.
    param([Parameter(Mandatory)] [string] $Database)
    $schedules = Get-JobSchedule -Database $Database | ForEach-Object {
        $_ | Select-Object ScheduleId, Name, JobType, ConfigJson, Expression, TimeZone, Priority, MaxRetries, Enabled,
            NextRun, LastRun, UpdatedAt, MisfirePolicy, OverlapPolicy, Command, Timeout, GpuCount
    }
    $jobs = Get-TrainingJob -Database $Database | Select-Object JobId, Status, ScheduleId, ScheduledFor
    ConvertTo-Json -Depth 5 -InputObject @{ Schedules = @($schedules); Jobs = @($jobs) }
}
