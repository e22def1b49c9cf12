# The hostile-input table of the schedule and worker cmdlets (dot-sourced by HostileInput.Cases.ps1,
# whose header explains targets and rows). Stored rows make schedules and workers of their own on
# the growing queue; rejected and accepted rows run on the seeded queue, which has the schedules
# 'seed-daily' (enabled) and 'seed-off' (disabled) and the stopped worker 'seed-worker'.

function New-HostileSchedule {
    # New-JobSchedule with a fresh valid name and definition, changed by $Parameters.
    param([string] $Db, [hashtable] $Parameters = @{})
    $p = @{ Database = $Db; Name = 's' + [guid]::NewGuid().ToString('N').Substring(0, 16); Type = 'training'; Cron = '0 3 * * *' }
    foreach ($k in $Parameters.Keys) { $p[$k] = $Parameters[$k] }
    New-JobSchedule @p
}

function Start-HostileWorker {
    # Start-JobWorker that registers, finds nothing of its own job type and exits, changed by $Parameters.
    param([string] $Db, [hashtable] $Parameters = @{})
    $p = @{ Database = $Db; WorkerId = 'w' + [guid]::NewGuid().ToString('N').Substring(0, 12); Type = New-UniqueType; ExitWhenEmpty = $true; PollInterval = [timespan]'0:0:0.2' }
    foreach ($k in $Parameters.Keys) { $p[$k] = $Parameters[$k] }
    Start-JobWorker @p
}

function Get-FirstRunAtThree($From) {
    # The first 03:00 UTC at or after a moment (the first run of '0 3 * * *' in UTC), as ISO text, or 'none' past the calendar.
    $utc = if ($null -eq $From) { [datetime]::UtcNow } elseif ($From -is [datetimeoffset]) { $From.UtcDateTime }
    elseif ($From.Kind -eq 'Utc') { $From } else { [datetime]::SpecifyKind($From, 'Local').ToUniversalTime() }
    $day = [datetime]::new($utc.Year, $utc.Month, $utc.Day, 0, 0, 0, [DateTimeKind]::Utc)
    if ($utc -le $day.AddHours(3)) { return $day.AddHours(3).ToString('o') }
    if ($day.Date -eq [datetime]::MaxValue.Date) { return 'none' }
    $day.AddDays(1).AddHours(3).ToString('o')
}
$NextRunText = { param($Schedule) if ($null -eq $Schedule.NextRun) { 'none' } else { $Schedule.NextRun.ToUniversalTime().ToString('o') } }

$ReadSchedule = { param($Db, $Out) Get-JobSchedule -Database $Db -Id $Out.ScheduleId }
$scheduleColumn = { param($name) [scriptblock]::Create("param(`$Out) `"SELECT $name AS v FROM schedules WHERE schedule_id = `$(`$Out.ScheduleId)`"") }
$NotFoundScheduleIds = 'MinusOne', 'Zero', 'LongMax', 'LongMin', 'Seed.Missing'
$BadScheduleNames = 'SqlDrop', 'SqlOr', 'Nul', 'Huge1MB', 'Emoji', 'Percent', 'Backslashes', 'LoneHigh', 'LoneLow'
$BadWildcards = 'OpenBracket', 'OpenSet', 'Wildcards'
$BadCrons = @('SqlDrop', 'SqlOr', 'Nul', 'Emoji', 'Huge1MB', 'Whitespace', 'CrLf', 'Controls', 'CronNever', 'CronMinute61', 'CronSeconds',
    'CronReboot', 'CronStepZero', 'CronHugeStep', 'CronNthSixth', 'CronTooLong') + $LoneSurrogates
$BadZones = @('SqlDrop', 'Nul', 'Emoji', 'Huge1MB', 'Backslashes', 'ZoneGmtPlus14', 'ZoneTraversal', 'ZoneAbsolute', 'ZoneOffset', 'ZoneLocal') + $LoneSurrogates
# Zones are stored by their IANA id; blank means UTC.
$ZoneStored = @{ 'utc' = 'UTC'; 'Pacific Standard Time' = 'America/Los_Angeles'; 'Europe/London ' = 'Europe/London'; '' = 'UTC'; "  `t  " = 'UTC' }
$ExpectZone = { param($V) if ($null -eq $V) { 'UTC' } elseif ($ZoneStored.ContainsKey($V)) { $ZoneStored[$V] } else { $V } }

# ---- New-JobSchedule -----------------------------------------------------------------------
Register-HostileTarget New-JobSchedule Name -Call { param($Db, $V) New-HostileSchedule $Db @{ Name = $V } } `
    -ReadBack { param($Db, $Out) (& $ReadSchedule $Db $Out).Name } -Sql (& $scheduleColumn name)
Add-HostileRows New-JobSchedule Name -Stored 'ScheduleName', 'ScheduleName128', 'Training' -Rejected @{
    'InvalidScheduleName/InvalidArgument' = $BadScheduleNames + 'Whitespace', 'Controls', 'CrLf', 'LeadingDigit', 'TypeNewline', 'Wildcards', 'Name256', 'ScheduleName129'
    'DuplicateScheduleName/ResourceExists' = 'Seed.ScheduleName', 'Seed.ScheduleNameUpper'
    $Binding.EmptyString = 'Empty'
    $Binding.Null = 'Null'
}

Register-HostileTarget New-JobSchedule Cron -Call { param($Db, $V) New-HostileSchedule $Db @{ Cron = $V } } `
    -ReadBack { param($Db, $Out) (& $ReadSchedule $Db $Out).Expression } -Sql (& $scheduleColumn schedule_expr) `
    -Expect { param($V) ($V.Trim() -split '\s+') -join ' ' }
Add-HostileRows New-JobSchedule Cron -Stored 'CronMinutely', 'CronYearly', 'CronLeapDay', 'CronBlanks' -Rejected @{
    'InvalidCron/InvalidArgument' = $BadCrons
    $Binding.EmptyString = 'Empty'
    $Binding.Null = 'Null'
}

Register-HostileTarget New-JobSchedule TimeZone -Call { param($Db, $V) New-HostileSchedule $Db @{ TimeZone = $V } } `
    -ReadBack { param($Db, $Out) (& $ReadSchedule $Db $Out).TimeZone } -Sql (& $scheduleColumn time_zone) -Expect $ExpectZone
Add-HostileRows New-JobSchedule TimeZone -Stored 'ZoneUtc', 'ZoneUtcLower', 'ZoneBerlin', 'ZoneGmtMinus14', 'ZoneWindows', 'ZoneTrailingBlank', 'Empty', 'Whitespace', 'Null' -Rejected @{
    'InvalidTimeZone/InvalidArgument' = $BadZones
}

Register-HostileTarget New-JobSchedule Type -Call { param($Db, $V) New-HostileSchedule $Db @{ Type = $V } } `
    -ReadBack { param($Db, $Out) (& $ReadSchedule $Db $Out).JobType } -Sql (& $scheduleColumn job_type)
Add-HostileRows New-JobSchedule Type -Stored 'Training', 'Type64' -Rejected @{
    'InvalidJobType/InvalidArgument' = @('SqlDrop', 'SqlOr', 'TypeNewline', 'TypeAccent', 'Type65', 'Whitespace', 'Nul', 'Huge1MB', 'LeadingDigit', 'Emoji') + $LoneSurrogates
    $Binding.EmptyString = 'Empty'
    $Binding.Null = 'Null'
}

foreach ($number in @(
        @{ P = 'Priority'; Column = 'priority'; Stored = 'One', 'Ten'; Id = 'InvalidPriority'; Bad = 'Zero', 'Eleven', 'MinusOne', 'IntMax', 'IntMin' }
        @{ P = 'MaxRetries'; Column = 'max_retries'; Stored = 'Zero', 'Thousand'; Id = 'InvalidMaxRetries'; Bad = 'MinusOne', 'Thousand1', 'IntMax', 'IntMin' }
        @{ P = 'GpuCount'; Column = 'gpu_count'; Stored = 'Zero', 'Gpu1024'; Id = 'InvalidArgument'; Bad = 'MinusOne', 'Gpu1025', 'IntMax', 'IntMin' })) {
    $p = $number.P
    Register-HostileTarget New-JobSchedule $p -Call ([scriptblock]::Create("param(`$Db, `$V) New-HostileSchedule `$Db @{ $p = `$V }")) `
        -ReadBack ([scriptblock]::Create("param(`$Db, `$Out) (Get-JobSchedule -Database `$Db -Id `$Out.ScheduleId).$p")) -Sql (& $scheduleColumn $number.Column)
    Add-HostileRows New-JobSchedule $p -Stored $number.Stored -Rejected @{
        "$($number.Id)/InvalidArgument" = $number.Bad
        $Binding.Convert = @('LongMax') + $BadLongs
        $Binding.NullToValueType = 'Null'
    }
}

Register-HostileTarget New-JobSchedule Timeout -Call { param($Db, $V) New-HostileSchedule $Db @{ Timeout = $V } } `
    -ReadBack { param($Db, $Out) (& $ReadSchedule $Db $Out).Timeout }
Add-HostileRows New-JobSchedule Timeout -Stored 'TsTick', 'TsSecond', 'TsDay', 'TsMax', 'Null' -Rejected @{
    'InvalidArgument/InvalidArgument' = 'TsZero', 'TsNegative', 'TsMin'
    $Binding.Convert = 'SqlOr', 'NaN'
}

Register-HostileTarget New-JobSchedule ConfigValue -Call { param($Db, $V) New-HostileSchedule $Db @{ Config = @{ k = $V } } } `
    -ReadBack { param($Db, $Out) , (& $ReadSchedule $Db $Out).Config['k'] } -Sql (& $scheduleColumn config) -SqlDecode { param($Text) , (ConvertFrom-Json $Text -AsHashtable).k }
Add-HostileRows New-JobSchedule ConfigValue -Stored ($ExactStrings + 'Huge1MB', 'Null', 'Zero', 'LongMax', 'LongMin', 'Fraction') -Rejected @{
    'InvalidConfig/InvalidData' = @('NaN', 'PosInf', 'NegInf') + $LoneSurrogates
}
Register-HostileTarget New-JobSchedule ConfigObject -Call { param($Db, $V) New-HostileSchedule $Db @{ Config = $V } } `
    -ReadBack { param($Db, $Out) (& $ReadSchedule $Db $Out).Config | ConvertTo-Json -Compress -Depth 100 } `
    -Expect { param($V) $V | ConvertTo-Json -Compress -Depth 100 }
Add-HostileRows New-JobSchedule ConfigObject -Stored 'Nested63', 'CaseKeys', 'HostileProperties' -Rejected @{
    'InvalidConfig/InvalidData' = 'Nested100', 'KeyCollision', 'ScalarConfig', 'ArrayConfig', 'JsonArray', 'JsonTruncated', 'JsonDeep65', 'JsonNaN',
    'JsonLoneEscape', 'JsonBom', 'JsonTrailing', 'JsonComment', 'SqlDrop', 'Whitespace', 'Empty'
}
Register-HostileTarget New-JobSchedule ConfigPath -Call { param($Db, $V) New-HostileSchedule $Db @{ ConfigPath = $V } } `
    -ReadBack { param($Db, $Out) (& $ReadSchedule $Db $Out).Config | ConvertTo-Json -Compress -Depth 100 } `
    -Expect { param($V) ConvertFrom-Json ([IO.File]::ReadAllText($V)) -AsHashtable | ConvertTo-Json -Compress -Depth 100 }
Add-HostileRows New-JobSchedule ConfigPath -Stored 'ConfigFile', 'WildcardNamedConfig' -Rejected @{
    'ConfigFileUnreadable/InvalidData' = 'FolderPath', 'BelowFile', 'MissingFile', 'NulPath', 'EnvDrive'
    'InvalidConfig/InvalidData' = 'DevNull', 'NonDbFile', 'EmptyFile'
    'DriveNotFound/ObjectNotFound' = 'MissingDrive'
    $Binding.Validation = 'Empty', 'Null'
}

Register-HostileTarget New-JobSchedule Command -Call { param($Db, $V) New-HostileSchedule $Db @{ Command = (, 'trainer' + $V) } } `
    -ReadBack { param($Db, $Out) , (& $ReadSchedule $Db $Out).Command } -Sql (& $scheduleColumn command) -SqlDecode { param($Text) , [string[]](ConvertFrom-Json $Text -NoEnumerate) } `
    -Expect { param($V) , [string[]](, 'trainer' + $V) }
Add-HostileRows New-JobSchedule Command -Stored (($ExactStrings | Where-Object { $_ -notin 'Nul', 'OnlyNul' }) + 'Huge1MB') -Rejected @{
    'InvalidArgument/InvalidArgument' = 'Null', 'Nul', 'OnlyNul'
    'InvalidText/InvalidArgument' = $LoneSurrogates
}
# No vector (or an empty one) means no command: the workers' -Handler runs the jobs.
Register-HostileTarget New-JobSchedule CommandVector -Call { param($Db, $V) New-HostileSchedule $Db @{ Command = $V } } `
    -ReadBack { param($Db, $Out) , (& $ReadSchedule $Db $Out).Command } -Expect { param($V) $null }
Add-HostileRows New-JobSchedule CommandVector -Stored 'Null', 'EmptyArray' -Rejected @{ 'InvalidArgument/InvalidArgument' = 'Empty' }

foreach ($policy in @(@{ P = 'MisfirePolicy'; Stored = 'RunAll' }, @{ P = 'OverlapPolicy'; Stored = 'Queue' })) {
    $p = $policy.P
    Register-HostileTarget New-JobSchedule $p -Call ([scriptblock]::Create("param(`$Db, `$V) New-HostileSchedule `$Db @{ $p = `$V }")) `
        -ReadBack ([scriptblock]::Create("param(`$Db, `$Out) `"`$((Get-JobSchedule -Database `$Db -Id `$Out.ScheduleId).$p)`""))
    Add-HostileRows New-JobSchedule $p -Stored $policy.Stored -Rejected @{ $Binding.Convert = 'Bogus', 'Empty', 'SqlDrop', 'Nul'; $Binding.NullToValueType = 'Null' }
}

# Any moment of the calendar: the first run is the first 03:00 UTC at or after it, or none after the last day.
Register-HostileTarget New-JobSchedule StartAt -Call { param($Db, $V) New-HostileSchedule $Db @{ StartAt = $V } } `
    -ReadBack { param($Db, $Out) & $NextRunText (& $ReadSchedule $Db $Out) } -Expect { param($V) Get-FirstRunAtThree $V }
Add-HostileRows New-JobSchedule StartAt -Stored 'DtMin', 'DtMax', 'DtUtcMs', 'DtoMin', 'DtoMax', 'Null' -Rejected @{ $Binding.Convert = 'SqlOr', 'Bogus' }

# ---- Get-JobSchedule -----------------------------------------------------------------------
Register-HostileTarget Get-JobSchedule Name -Call { param($Db, $V) Get-JobSchedule -Database $Db -Name $V } -Assert {
    param($Out, $Name, $Ctx)
    $names = @($Out | ForEach-Object Name | Sort-Object)
    switch ($Name) {
        { $_ -in 'Seed.ScheduleName', 'Seed.ScheduleNameUpper' } { $names | Should -Be @($Ctx.ScheduleName); break }
        default { $names | Should -Be @('seed-daily', 'seed-off') }
    }
}
Add-HostileRows Get-JobSchedule Name -Accepted 'Seed.ScheduleName', 'Seed.ScheduleNameUpper', 'SeedSchedulePattern', 'Star' -Rejected @{
    'ScheduleNotFound/ObjectNotFound' = $BadScheduleNames
    'InvalidWildcard/InvalidArgument' = $BadWildcards
    $Binding.Validation = 'Empty', 'Null'
}
Register-HostileTarget Get-JobSchedule Id -Call { param($Db, $V) Get-JobSchedule -Database $Db -Id $V } -Assert {
    param($Out, $Name, $Ctx) $Out.Name | Should -Be $Ctx.ScheduleName
}
Add-HostileRows Get-JobSchedule Id -Accepted 'Seed.ScheduleId' -Rejected @{
    'ScheduleNotFound/ObjectNotFound' = $NotFoundScheduleIds
    $Binding.Convert = $BadLongs
    $Binding.Null = 'Null'
    $Binding.EmptyArray = 'EmptyArray'
}

# ---- Enable / Disable / Remove -------------------------------------------------------------
foreach ($cmdlet in 'Enable-JobSchedule', 'Disable-JobSchedule', 'Remove-JobSchedule') {
    Register-HostileTarget $cmdlet Name -Call ([scriptblock]::Create("param(`$Db, `$V) $cmdlet -Database `$Db -Name `$V -Confirm:`$false"))
    $accepted = switch ($cmdlet) {
        # Enabling an enabled schedule, disabling a disabled one: nothing to change.
        'Enable-JobSchedule' { 'Seed.ScheduleName' }
        'Disable-JobSchedule' { 'Seed.DisabledScheduleName' }
        default { @() }
    }
    Add-HostileRows $cmdlet Name -Accepted $accepted -Rejected @{
        'ScheduleNotFound/ObjectNotFound' = $BadScheduleNames
        'InvalidWildcard/InvalidArgument' = $BadWildcards
        $Binding.Validation = 'Empty', 'Null'
    }
    Register-HostileTarget $cmdlet Id -Call ([scriptblock]::Create("param(`$Db, `$V) $cmdlet -Database `$Db -Id `$V -Confirm:`$false"))
    Add-HostileRows $cmdlet Id -Rejected @{
        'ScheduleNotFound/ObjectNotFound' = $NotFoundScheduleIds
        $Binding.Convert = $BadLongs
        $Binding.Null = 'Null'
        $Binding.EmptyArray = 'EmptyArray'
    }
}
Register-HostileTarget Remove-JobSchedule NameWhatIf -Call { param($Db, $V) Remove-JobSchedule -Database $Db -Name $V -WhatIf }
Add-HostileRows Remove-JobSchedule NameWhatIf -Accepted 'Star', 'SeedSchedulePattern', 'Seed.ScheduleName'

Register-HostileTarget Enable-JobSchedule StartAt -Setup { param($Db) @{ Off = (New-HostileSchedule $Db @{ Disabled = $true }).ScheduleId } } `
    -Call { param($Db, $V, $Ctx) Enable-JobSchedule -Database $Db -Id ($Ctx.Off ?? $Ctx.ScheduleId) -StartAt $V -PassThru } `
    -ReadBack { param($Db, $Out, $Ctx) & $NextRunText (Get-JobSchedule -Database $Db -Id $Ctx.Off) } -Expect { param($V) Get-FirstRunAtThree $V }
Add-HostileRows Enable-JobSchedule StartAt -Stored 'DtMin', 'DtMax', 'DtUtcMs', 'DtoMin', 'DtoMax' -Rejected @{ $Binding.Convert = 'SqlOr', 'Bogus' }

# ---- Set-JobSchedule -----------------------------------------------------------------------
$NewTarget = { param($Db) @{ Target = (New-HostileSchedule $Db).ScheduleId } }
$SetOn = { param($P) [scriptblock]::Create("param(`$Db, `$V, `$Ctx) `$id = if (`$Ctx.Target) { `$Ctx.Target } else { `$Ctx.ScheduleId }; Set-JobSchedule -Database `$Db -Id `$id -$P `$V -PassThru") }
$ReadTarget = { param($P) [scriptblock]::Create("param(`$Db, `$Out, `$Ctx) , (Get-JobSchedule -Database `$Db -Id `$Ctx.Target).$P") }

Register-HostileTarget Set-JobSchedule NewName -Setup $NewTarget -Call (& $SetOn NewName) -ReadBack (& $ReadTarget Name)
Add-HostileRows Set-JobSchedule NewName -Stored 'ScheduleNameUpper' -Rejected @{
    'InvalidScheduleName/InvalidArgument' = $BadScheduleNames + 'Whitespace', 'Name256', 'ScheduleName129'
    'DuplicateScheduleName/ResourceExists' = , 'Seed.DisabledScheduleName'
    $Binding.Validation = 'Empty', 'Null'
}
Register-HostileTarget Set-JobSchedule Cron -Setup $NewTarget -Call (& $SetOn Cron) -ReadBack (& $ReadTarget Expression) `
    -Expect { param($V) ($V.Trim() -split '\s+') -join ' ' }
Add-HostileRows Set-JobSchedule Cron -Stored 'CronLeapDay', 'CronBlanks' -Rejected @{ 'InvalidCron/InvalidArgument' = $BadCrons; $Binding.Validation = 'Empty', 'Null' }
Register-HostileTarget Set-JobSchedule TimeZone -Setup $NewTarget -Call (& $SetOn TimeZone) -ReadBack (& $ReadTarget TimeZone) -Expect $ExpectZone
Add-HostileRows Set-JobSchedule TimeZone -Stored 'ZoneBerlin', 'ZoneWindows', 'Whitespace' -Rejected @{ 'InvalidTimeZone/InvalidArgument' = $BadZones; $Binding.Validation = 'Empty', 'Null' }
Register-HostileTarget Set-JobSchedule Priority -Setup $NewTarget -Call (& $SetOn Priority) -ReadBack (& $ReadTarget Priority)
Add-HostileRows Set-JobSchedule Priority -Stored 'One', 'Ten' -Rejected @{ 'InvalidPriority/InvalidArgument' = 'Zero', 'Eleven', 'IntMin'; $Binding.Convert = $BadLongs }
Register-HostileTarget Set-JobSchedule Timeout -Setup $NewTarget -Call (& $SetOn Timeout) -ReadBack (& $ReadTarget Timeout)
Add-HostileRows Set-JobSchedule Timeout -Stored 'TsMax', 'Null' -Rejected @{ 'InvalidArgument/InvalidArgument' = 'TsZero', 'TsNegative', 'TsMin'; $Binding.Convert = 'SqlOr' }
# -Command $null or @() removes the command.
Register-HostileTarget Set-JobSchedule Command -Setup { param($Db) @{ Target = (New-HostileSchedule $Db @{ Command = 'python', 'train.py' }).ScheduleId } } `
    -Call (& $SetOn Command) -ReadBack (& $ReadTarget Command) -Expect { param($V) if (@($V).Count) { , [string[]]$V } else { $null } }
Add-HostileRows Set-JobSchedule Command -Stored 'Null', 'EmptyArray', 'SqlDrop', 'ShellMeta', 'Emoji' -Rejected @{
    'InvalidArgument/InvalidArgument' = 'Empty', 'Nul'
    'InvalidText/InvalidArgument' = $LoneSurrogates
}
Register-HostileTarget Set-JobSchedule Config -Setup $NewTarget -Call (& $SetOn Config) `
    -ReadBack { param($Db, $Out, $Ctx) (Get-JobSchedule -Database $Db -Id $Ctx.Target).Config | ConvertTo-Json -Compress -Depth 100 } `
    -Expect { param($V) if ($null -eq $V) { '{}' } else { $V | ConvertTo-Json -Compress -Depth 100 } }
Add-HostileRows Set-JobSchedule Config -Stored 'Null', 'Nested63', 'HostileProperties' -Rejected @{
    'InvalidConfig/InvalidData' = 'Nested100', 'JsonNull', 'JsonArray', 'KeyCollision', 'NaN', 'LoneHigh'
}
Register-HostileTarget Set-JobSchedule StartAt -Setup $NewTarget -Call (& $SetOn StartAt) `
    -ReadBack { param($Db, $Out, $Ctx) & $NextRunText (Get-JobSchedule -Database $Db -Id $Ctx.Target) } -Expect { param($V) Get-FirstRunAtThree $V }
Add-HostileRows Set-JobSchedule StartAt -Stored 'DtMin', 'DtMax', 'DtoMax' -Rejected @{ $Binding.Convert = 'SqlOr' }
Register-HostileTarget Set-JobSchedule Name -Call { param($Db, $V) Set-JobSchedule -Database $Db -Name $V -Priority 1 }
Add-HostileRows Set-JobSchedule Name -Rejected @{
    'ScheduleNotFound/ObjectNotFound' = $BadScheduleNames
    'InvalidWildcard/InvalidArgument' = $BadWildcards
    $Binding.Validation = 'Empty', 'Null'
}

# ---- Invoke-JobScheduler -------------------------------------------------------------------
# -WhatIf on the seeded queue: any moment is planned without an error, and nothing is written.
Register-HostileTarget Invoke-JobScheduler NowWhatIf -Call { param($Db, $V) Invoke-JobScheduler -Database $Db -Now $V -WhatIf }
Add-HostileRows Invoke-JobScheduler NowWhatIf -Accepted 'DtMin', 'DtMax', 'DtUtcMs', 'DtoMin', 'DtoMax', 'Null' -Rejected @{ $Binding.Convert = 'SqlOr', 'Bogus' }
# For real, on a queue of its own with one minute-by-minute RunAll schedule: nothing is due
# before now; at any later moment the most recent 100 occurrences (the RunAll cap) get a job,
# even at the end of the calendar, years of occurrences later.
Register-HostileTarget Invoke-JobScheduler Now -Setup {
    param($Db)
    $own = New-TestDatabase -Backend $(if ($Db -match '(?i)(^|;)\s*Host\s*=') { 'PostgreSQL' } else { 'SQLite' })
    New-JobSchedule -Database $own -Name minutely -Type training -Cron '* * * * *' -MisfirePolicy RunAll | Out-Null
    @{ Own = $own }
} -Call { param($Db, $V, $Ctx) Invoke-JobScheduler -Database $Ctx.Own -Now $V -WarningAction SilentlyContinue } `
    -ReadBack { param($Db, $Out, $Ctx) @(Get-TrainingJob -Database $Ctx.Own).Count } -Expect { param($V) if ($V -lt [datetime]::UtcNow) { 0 } else { 100 } }
Add-HostileRows Invoke-JobScheduler Now -Stored 'DtMin', 'DtoMin', 'DtUtcMs', 'DtMax', 'DtoMax'

# ---- Start-JobWorker -----------------------------------------------------------------------
# Stored: a worker that registers and exits at once (nothing of its job type is queued); its
# record shows the value. Rejected values stop it before it registers. The stored workers run on
# a queue of their own per backend: a worker rescues expired leases, and the jobs that other
# stored rows claimed must keep theirs until the sqlite3 shell reads them.
$WorkerQueues = @{}
$NewWorkers = {
    param($Db)
    if (-not $WorkerQueues.ContainsKey($Db)) { $WorkerQueues[$Db] = New-TestDatabase -Backend $(if ($Db -match '(?i)(^|;)\s*Host\s*=') { 'PostgreSQL' } else { 'SQLite' }) }
    $own = $WorkerQueues[$Db]
    @{ Own = $own; Before = [Collections.Generic.HashSet[string]]::new([string[]]@(Get-JobWorker -Database $own | ForEach-Object WorkerId), [StringComparer]::Ordinal) }
}
$ReadNewWorker = { param($P) [scriptblock]::Create("param(`$Db, `$Out, `$Ctx) `$w = @(Get-JobWorker -Database `$Ctx.Own | Where-Object { -not `$Ctx.Before.Contains(`$_.WorkerId) }); `$w.Count | Should -Be 1; , `$w[0].$P") }
$ReadNewWorkerState = { param($Db, $Out, $Ctx) $w = @(Get-JobWorker -Database $Ctx.Own | Where-Object { -not $Ctx.Before.Contains($_.WorkerId) }); $w.Count | Should -Be 1; "$($w[0].State)" }
$StartWith = { param($P) [scriptblock]::Create("param(`$Db, `$V, `$Ctx) Start-HostileWorker (`$Ctx.Own ?? `$Db) @{ $P = `$V }") }

Register-HostileTarget Start-JobWorker WorkerId -Setup $NewWorkers -Call (& $StartWith WorkerId) -ReadBack (& $ReadNewWorker WorkerId)
Add-HostileRows Start-JobWorker WorkerId -Stored (($ExactStrings | Where-Object { $_ -notin 'Nul', 'OnlyNul', 'Whitespace', 'Empty' }) + 'WorkerId200') -Rejected @{
    'InvalidWorkerId/InvalidArgument' = 'Whitespace', 'Nul', 'OnlyNul', 'Name256', 'Huge1MB'
    'InvalidText/InvalidArgument' = $LoneSurrogates
    $Binding.Validation = 'Empty', 'Null'
}
Register-HostileTarget Start-JobWorker Gpu -Setup $NewWorkers -Call (& $StartWith Gpu) -ReadBack (& $ReadNewWorker Gpus) -Expect { param($V) , [int[]]$V }
Add-HostileRows Start-JobWorker Gpu -Stored 'GpuOne', 'GpuMany', 'GpuHigh' -Rejected @{
    'InvalidGpu/InvalidArgument' = 'GpuNegative', 'GpuRepeated'
    $Binding.Validation = 'GpuEmpty', 'Null'
    $Binding.Convert = 'SqlDrop', 'Int64Overflow'
}
Register-HostileTarget Start-JobWorker LeaseDuration -Setup $NewWorkers -Call (& $StartWith LeaseDuration) -ReadBack (& $ReadNewWorker LeaseDuration)
Add-HostileRows Start-JobWorker LeaseDuration -Stored 'TsSecond', 'TsDay' -Rejected @{
    'InvalidLeaseDuration/InvalidArgument' = 'TsZero', 'TsTick', 'TsNegative', 'TsMin', 'TsMax', 'TsDayAndTick'
    'ParameterArgumentTransformationError/InvalidData' = 'NaN'
    $Binding.Convert = 'SqlOr'
    $Binding.NullToValueType = 'Null'
}
# Options that leave no trace in the worker's record: the worker ran and stopped.
foreach ($option in @(
        @{ P = 'MaxJobs'; Stored = 'One', 'IntMax'; Rejected = @{ $Binding.Validation = 'Zero', 'MinusOne', 'IntMin', 'Null'; $Binding.Convert = @('LongMax') + $BadLongs } }
        @{ P = 'MaxConcurrent'; Stored = 'One', 'Gpu1024'; Rejected = @{ $Binding.Validation = 'Zero', 'Gpu1025', 'MinusOne', 'IntMin', 'IntMax', 'Null'; $Binding.Convert = $BadLongs } }
        @{ P = 'PollInterval'; Stored = 'TsTick', 'TsSecond'; Rejected = @{ 'InvalidPollInterval/InvalidArgument' = 'TsZero', 'TsNegative', 'TsMin', 'TsMax'
                'ParameterArgumentTransformationError/InvalidData' = 'NaN'; $Binding.Convert = 'SqlOr'; $Binding.NullToValueType = 'Null' } }
        @{ P = 'GracePeriod'; Stored = 'TsZero', 'TsTick', 'TsDay'; Rejected = @{ 'InvalidGracePeriod/InvalidArgument' = 'TsNegative', 'TsMin', 'TsMax', 'TsDayAndTick'
                'ParameterArgumentTransformationError/InvalidData' = 'NaN'; $Binding.Convert = 'SqlOr'; $Binding.NullToValueType = 'Null' } }
        @{ P = 'RetryBackoff'; Stored = 'TsZero', 'TsTick', 'TsMax'; Rejected = @{ 'InvalidRetryBackoff/InvalidArgument' = 'TsNegative', 'TsMin'
                'ParameterArgumentTransformationError/InvalidData' = 'NaN'; $Binding.Convert = 'SqlOr'; $Binding.NullToValueType = 'Null' } })) {
    Register-HostileTarget Start-JobWorker $option.P -Setup $NewWorkers -Call (& $StartWith $option.P) -ReadBack $ReadNewWorkerState -Expect { param($V) 'Stopped' }
    Add-HostileRows Start-JobWorker $option.P -Stored $option.Stored -Rejected $option.Rejected
}
Register-HostileTarget Start-JobWorker Type -Call (& $StartWith Type)
Add-HostileRows Start-JobWorker Type -Rejected @{ 'InvalidJobType/InvalidArgument' = @('SqlDrop', 'Empty', 'TypeNewline', 'Huge1MB', 'Nul', 'Emoji') + $LoneSurrogates }
Register-HostileTarget Start-JobWorker Handler -Call (& $StartWith Handler)
Add-HostileRows Start-JobWorker Handler -Rejected @{
    'InvalidHandler/InvalidArgument' = 'HandlerNumber', 'HandlerEmptyText', 'HandlerEmptyVector', 'HandlerEmptyProgram', 'HandlerHashtable', 'HandlerObjects'
    'InvalidJobType/InvalidArgument' = , 'HandlerBadType'
    $Binding.Convert = 'SqlDrop'
}

# ---- Get-JobWorker / Stop-JobWorker --------------------------------------------------------
Register-HostileTarget Get-JobWorker WorkerId -Call { param($Db, $V) Get-JobWorker -Database $Db -WorkerId $V } -Assert {
    param($Out, $Name, $Ctx) @($Out | ForEach-Object WorkerId) | Should -Be @('seed-worker')
}
Add-HostileRows Get-JobWorker WorkerId -Accepted 'Seed.WorkerId', 'Star', 'Null' -Rejected @{
    'WorkerNotFound/ObjectNotFound' = 'SqlDrop', 'SqlOr', 'Nul', 'Huge1MB', 'Emoji', 'Empty', 'Whitespace', 'LoneHigh'
    'InvalidWildcard/InvalidArgument' = $BadWildcards
}
Register-HostileTarget Get-JobWorker State -Call { param($Db, $V) Get-JobWorker -Database $Db -State $V }
Add-HostileRows Get-JobWorker State -Accepted 'Null', 'StateStopped' -Rejected @{ $Binding.Convert = 'Bogus', 'Empty', 'SqlDrop', 'Nul' }

# The seeded worker has stopped: asking it again changes nothing.
Register-HostileTarget Stop-JobWorker WorkerId -Call { param($Db, $V) Stop-JobWorker -Database $Db -WorkerId $V -Confirm:$false }
Add-HostileRows Stop-JobWorker WorkerId -Accepted 'Seed.WorkerId', 'Star' -Rejected @{
    'WorkerNotFound/ObjectNotFound' = 'SqlDrop', 'SqlOr', 'Nul', 'Huge1MB', 'Emoji', 'Whitespace', 'LoneHigh'
    'InvalidWildcard/InvalidArgument' = $BadWildcards
    $Binding.EmptyString = 'Empty'
    $Binding.Null = 'Null'
}
Register-HostileTarget Stop-JobWorker Timeout -Call { param($Db, $V, $Ctx) Stop-JobWorker -Database $Db -WorkerId $Ctx.WorkerId -Wait -Timeout $V -Confirm:$false }
Add-HostileRows Stop-JobWorker Timeout -Accepted 'TsZero', 'TsMax', 'Null' -Rejected @{
    'ParameterArgumentTransformationError/InvalidData' = 'NaN'
    $Binding.Convert = 'SqlOr'
}

# ---- -Database (SQLite paths) --------------------------------------------------------------
$script:DatabaseCalls['New-JobSchedule'] = { param($Db) New-JobSchedule -Database $Db -Name hostile -Type training -Cron '* * * * *' }
$script:DatabaseCalls['Get-JobSchedule'] = { param($Db) Get-JobSchedule -Database $Db }
$script:DatabaseCalls['Set-JobSchedule'] = { param($Db) Set-JobSchedule -Database $Db -Name hostile -Priority 1 }
$script:DatabaseCalls['Enable-JobSchedule'] = { param($Db) Enable-JobSchedule -Database $Db -Name hostile }
$script:DatabaseCalls['Disable-JobSchedule'] = { param($Db) Disable-JobSchedule -Database $Db -Name hostile }
$script:DatabaseCalls['Remove-JobSchedule'] = { param($Db) Remove-JobSchedule -Database $Db -Name hostile -Confirm:$false }
$script:DatabaseCalls['Invoke-JobScheduler'] = { param($Db) Invoke-JobScheduler -Database $Db }
$script:DatabaseCalls['Start-JobWorker'] = { param($Db) Start-JobWorker -Database $Db -WorkerId hostile -Type nosuchtype -ExitWhenEmpty }
$script:DatabaseCalls['Get-JobWorker'] = { param($Db) Get-JobWorker -Database $Db }
$script:DatabaseCalls['Stop-JobWorker'] = { param($Db) Stop-JobWorker -Database $Db -WorkerId hostile -Confirm:$false }
