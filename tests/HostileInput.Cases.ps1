# The hostile-input table (run by HostileInput.Tests.ps1).
#
# A TARGET is one parameter of one cmdlet: how to call the cmdlet with that parameter set to a
# value ($V), and how to read the value back. A ROW feeds one named value (from
# New-HostileValues in HostileInput.Helpers.ps1, or 'Seed.X' for a job of the seeded queue) to a
# target and says what must happen:
#   Stored    the call succeeds and the value comes back byte for byte: through the cmdlets
#             (ReadBack) and, on SQLite, through the sqlite3 shell (Sql: a query whose column is v).
#   Accepted  the call succeeds (a filter, a query) and the queue is unchanged; Assert may check
#             what came out.
#   Rejected  the call fails with the documented error: FullyQualifiedErrorId prefix and
#             ErrorCategory, no raw .NET exception, and the queue is unchanged.
# Stored rows run on a queue of their own (Setup makes the jobs they need); the others run on a
# small seeded queue whose snapshot is compared before and after.
#
# To cover a new cmdlet: Register-HostileTarget for each of its parameters, Add-HostileRows for the
# values, and an entry in $DatabaseCalls so its -Database is fed the bad paths too. The schedule
# and worker cmdlets are in HostileInput.Schedules.Cases.ps1.

$script:HostileTargets = @{}
$script:HostileRows = [Collections.Generic.List[hashtable]]::new()

function Register-HostileTarget {
    param(
        [string] $Cmdlet, [string] $Parameter, [scriptblock] $Call,
        [scriptblock] $Setup, [scriptblock] $ReadBack, [scriptblock] $Sql, [scriptblock] $SqlDecode,
        [scriptblock] $Expect, [scriptblock] $Assert)
    $script:HostileTargets["$Cmdlet -$Parameter"] = @{
        Call = $Call; Setup = $Setup; ReadBack = $ReadBack; Sql = $Sql; SqlDecode = $SqlDecode; Expect = $Expect; Assert = $Assert
    }
}

function Add-HostileRows {
    # -Rejected maps 'ErrorId/Category' to the values that must get that error.
    param([string] $Cmdlet, [string] $Parameter, [string[]] $Stored = @(), [string[]] $Accepted = @(), [hashtable] $Rejected = @{})
    foreach ($value in $Stored) { $script:HostileRows.Add(@{ Cmdlet = $Cmdlet; Parameter = $Parameter; Value = $value; Expect = 'Stored'; ErrorId = ''; Category = '' }) }
    foreach ($value in $Accepted) { $script:HostileRows.Add(@{ Cmdlet = $Cmdlet; Parameter = $Parameter; Value = $value; Expect = 'Accepted'; ErrorId = ''; Category = '' }) }
    foreach ($key in $Rejected.Keys | Sort-Object) {
        $errorId, $category = $key -split '/'
        foreach ($value in $Rejected[$key]) {
            $script:HostileRows.Add(@{ Cmdlet = $Cmdlet; Parameter = $Parameter; Value = $value; Expect = 'Rejected'; ErrorId = $errorId; Category = $category })
        }
    }
}

# Value groups used by many rows.
$ExactStrings = 'SqlDrop', 'SqlOr', 'SqlComment', 'SingleQuotes', 'DoubleQuotes', 'Backticks', 'Subexpression', 'ShellMeta',
'Backslashes', 'Percent', 'Wildcards', 'Nul', 'OnlyNul', 'CrLf', 'Esc', 'Controls', 'Rtl', 'Emoji', 'Combining', 'ZeroWidth',
'NonCharacters', 'Whitespace', 'Empty'
$LoneSurrogates = 'LoneHigh', 'LoneLow', 'ReversedPair'
$NotFoundIds = 'MinusOne', 'Zero', 'LongMax', 'LongMin', 'Seed.Missing'
$BadLongs = 'Int64Overflow', 'NaN', 'PosInf', 'SqlOr', 'SqlDrop'
$Binding = @{
    Convert = 'CannotConvertArgumentNoMessage/InvalidArgument'
    Null = 'ParameterArgumentValidationErrorNullNotAllowed/InvalidData'
    EmptyArray = 'ParameterArgumentValidationErrorEmptyArrayNotAllowed/InvalidData'
    EmptyString = 'ParameterArgumentValidationErrorEmptyStringNotAllowed/InvalidData'
    Validation = 'ParameterArgumentValidationError/InvalidData'
    # PowerShell's own error for $null given to a non-nullable value-type parameter.
    NullToValueType = 'ParameterBindingFailed/WriteError'
}
$ConfigKeyOf = { param($Text) $h = ConvertFrom-Json $Text -AsHashtable; , @($h.Keys)[0] }

# ---- Submit-TrainingJob --------------------------------------------------------------------
$ReadJob = { param($Db, $Out) Get-TrainingJob -Database $Db -Id $Out.JobId }
$column = { param($name) [scriptblock]::Create("param(`$Out) `"SELECT $name AS v FROM jobs WHERE job_id = `$(`$Out.JobId)`"") }

Register-HostileTarget Submit-TrainingJob Name -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -Name $V } `
    -ReadBack { param($Db, $Out) (& $ReadJob $Db $Out).Name } -Sql (& $column name)
Add-HostileRows Submit-TrainingJob Name -Stored ($ExactStrings + 'Null', 'Name256') -Rejected @{
    'InvalidArgument/InvalidArgument' = 'Name257', 'Huge1MB'
    'InvalidText/InvalidArgument' = $LoneSurrogates
}

Register-HostileTarget Submit-TrainingJob ConfigValue -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -Config @{ k = $V } } `
    -ReadBack { param($Db, $Out) , (& $ReadJob $Db $Out).Config['k'] } -Sql (& $column config) -SqlDecode { param($Text) , (ConvertFrom-Json $Text -AsHashtable).k }
Add-HostileRows Submit-TrainingJob ConfigValue -Stored ($ExactStrings + 'Huge1MB', 'Null', 'Zero', 'MinusOne', 'IntMax', 'IntMin', 'LongMax', 'LongMin',
    'UInt64Max', 'BigInt', 'DecimalMax', 'DoubleMax', 'DoubleEpsilon', 'Fraction') -Rejected @{
    'InvalidConfig/InvalidData' = @('NaN', 'PosInf', 'NegInf') + $LoneSurrogates
}

Register-HostileTarget Submit-TrainingJob ConfigKey -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -Config @{ $V = 1 } } `
    -ReadBack { param($Db, $Out) , @((& $ReadJob $Db $Out).Config.Keys)[0] } -Sql (& $column config) -SqlDecode $ConfigKeyOf
Add-HostileRows Submit-TrainingJob ConfigKey -Stored ($ExactStrings + 'Huge1MB') -Rejected @{ 'InvalidConfig/InvalidData' = $LoneSurrogates }

# A whole config object: what comes back must serialize exactly as what went in.
Register-HostileTarget Submit-TrainingJob ConfigObject -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -Config $V } `
    -ReadBack { param($Db, $Out) (& $ReadJob $Db $Out).Config | ConvertTo-Json -Compress -Depth 100 } `
    -Expect { param($V) $V | ConvertTo-Json -Compress -Depth 100 }
Add-HostileRows Submit-TrainingJob ConfigObject -Stored 'Nested63', 'CaseKeys', 'HostileProperties' -Rejected @{
    'InvalidConfig/InvalidData' = 'Nested100', 'KeyCollision', 'ScalarConfig', 'ArrayConfig'
}

Register-HostileTarget Submit-TrainingJob ConfigJson -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -Config $V } `
    -ReadBack { param($Db, $Out) (& $ReadJob $Db $Out).ConfigJson } -Sql (& $column config)
Add-HostileRows Submit-TrainingJob ConfigJson -Stored 'JsonWhitespace', 'JsonDupKeys', 'JsonEscapes', 'JsonDeep64', 'JsonHuge' -Rejected @{
    'InvalidConfig/InvalidData' = 'JsonArray', 'JsonString', 'JsonNumber', 'JsonNull', 'Empty', 'Whitespace', 'JsonTruncated', 'JsonTrailing',
    'JsonComment', 'JsonSingleQuoted', 'JsonNaN', 'JsonHugeNumber', 'JsonLoneEscape', 'JsonLoneKey', 'JsonDeep65', 'JsonDeep100', 'JsonBom',
    'JsonRawControl', 'SqlDrop', 'LoneHigh'
}

Register-HostileTarget Submit-TrainingJob ConfigPath -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -ConfigPath $V } `
    -ReadBack { param($Db, $Out) (& $ReadJob $Db $Out).ConfigJson } -Sql (& $column config) -Expect { param($V) [IO.File]::ReadAllText($V) }
Add-HostileRows Submit-TrainingJob ConfigPath -Stored 'ConfigFile', 'WildcardNamedConfig' -Rejected @{
    'ConfigFileUnreadable/InvalidData' = 'FolderPath', 'BelowFile', 'MissingFile', 'NulPath', 'EnvDrive'
    'InvalidConfig/InvalidData' = 'DevNull', 'NonDbFile', 'EmptyFile'
    'DriveNotFound/ObjectNotFound' = 'MissingDrive'
    $Binding.Validation = 'Empty', 'Null'
}

Register-HostileTarget Submit-TrainingJob Type -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type $V } `
    -ReadBack { param($Db, $Out) (& $ReadJob $Db $Out).JobType } -Sql (& $column job_type)
Add-HostileRows Submit-TrainingJob Type -Stored 'Training', 'Type64' -Rejected @{
    'InvalidJobType/InvalidArgument' = @('SqlDrop', 'SqlOr', 'TypeNewline', 'TypeAccent', 'Type65', 'Whitespace', 'Nul', 'Huge1MB', 'LeadingDigit', 'Emoji') + $LoneSurrogates
    $Binding.EmptyString = 'Empty'
    $Binding.Null = 'Null'
}

Register-HostileTarget Submit-TrainingJob Priority -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -Priority $V } `
    -ReadBack { param($Db, $Out) (& $ReadJob $Db $Out).Priority } -Sql (& $column priority)
Add-HostileRows Submit-TrainingJob Priority -Stored 'One', 'Ten' -Rejected @{
    'InvalidPriority/InvalidArgument' = 'Zero', 'Eleven', 'MinusOne', 'IntMax', 'IntMin'
    $Binding.Convert = @('LongMax') + $BadLongs
    $Binding.NullToValueType = 'Null'
}

Register-HostileTarget Submit-TrainingJob MaxRetries -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -MaxRetries $V } `
    -ReadBack { param($Db, $Out) (& $ReadJob $Db $Out).MaxRetries } -Sql (& $column max_retries)
Add-HostileRows Submit-TrainingJob MaxRetries -Stored 'Zero', 'Thousand' -Rejected @{
    'InvalidMaxRetries/InvalidArgument' = 'MinusOne', 'Thousand1', 'IntMax', 'IntMin'
    $Binding.Convert = $BadLongs
}

Register-HostileTarget Submit-TrainingJob GpuCount -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -GpuCount $V } `
    -ReadBack { param($Db, $Out) (& $ReadJob $Db $Out).GpuCount } -Sql (& $column gpu_count)
Add-HostileRows Submit-TrainingJob GpuCount -Stored 'Zero', 'Gpu1024' -Rejected @{
    'InvalidArgument/InvalidArgument' = 'MinusOne', 'Gpu1025', 'IntMax', 'IntMin'
    $Binding.Convert = $BadLongs
}

Register-HostileTarget Submit-TrainingJob Timeout -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -Timeout $V } `
    -ReadBack { param($Db, $Out) (& $ReadJob $Db $Out).Timeout }
Add-HostileRows Submit-TrainingJob Timeout -Stored 'TsTick', 'TsOdd', 'TsMax', 'Null' -Rejected @{
    'InvalidArgument/InvalidArgument' = 'TsZero', 'TsNegative', 'TsMin'
    $Binding.Convert = 'SqlOr', 'NaN'
}

# Times are kept in UTC with millisecond precision (SPEC section 1) and shown as local times.
Register-HostileTarget Submit-TrainingJob NotBefore -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -NotBefore $V } `
    -ReadBack { param($Db, $Out) (& $ReadJob $Db $Out).NotBefore } -Expect {
    param($V)
    if ($null -eq $V) { return $null }
    $utc = if ($V.Kind -eq 'Utc') { $V } else { [datetime]::SpecifyKind($V, 'Local').ToUniversalTime() }
    [datetime]::new($utc.Ticks - $utc.Ticks % [timespan]::TicksPerMillisecond, 'Utc').ToLocalTime()
}
Add-HostileRows Submit-TrainingJob NotBefore -Stored 'DtMin', 'DtMax', 'DtUtcMs', 'Null' -Rejected @{ $Binding.Convert = 'SqlOr', 'Bogus' }

Register-HostileTarget Submit-TrainingJob Command -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -Command (, 'trainer' + $V) } `
    -ReadBack { param($Db, $Out) , (& $ReadJob $Db $Out).Command } -Sql (& $column command) -SqlDecode { param($Text) , [string[]](ConvertFrom-Json $Text -NoEnumerate) } `
    -Expect { param($V) , [string[]](, 'trainer' + $V) }
Add-HostileRows Submit-TrainingJob Command -Stored (($ExactStrings | Where-Object { $_ -notin 'Nul', 'OnlyNul' }) + 'Huge1MB') -Rejected @{
    'InvalidArgument/InvalidArgument' = 'Null', 'Nul', 'OnlyNul'
    'InvalidText/InvalidArgument' = $LoneSurrogates
}
Register-HostileTarget Submit-TrainingJob CommandVector -Call { param($Db, $V) Submit-TrainingJob -Database $Db -Type training -Command $V }
Add-HostileRows Submit-TrainingJob CommandVector -Rejected @{ 'InvalidArgument/InvalidArgument' = 'Empty', 'EmptyArray' }

# ---- Get-TrainingJob -----------------------------------------------------------------------
Register-HostileTarget Get-TrainingJob Id -Call { param($Db, $V) Get-TrainingJob -Database $Db -Id $V } -Assert {
    param($Out, $Name, $Ctx) $Out.JobId | Should -Be $Ctx.Pending
}
Add-HostileRows Get-TrainingJob Id -Accepted 'Seed.Pending' -Rejected @{
    'JobNotFound/ObjectNotFound' = $NotFoundIds
    $Binding.Convert = $BadLongs
    $Binding.Null = 'Null'
    $Binding.EmptyArray = 'EmptyArray'
}

Register-HostileTarget Get-TrainingJob Name -Call { param($Db, $V) Get-TrainingJob -Database $Db -Name $V } -Assert {
    param($Out, $Name, $Ctx)
    $names = @($Out | ForEach-Object Name | Sort-Object)
    switch ($Name) {
        { $_ -in 'SqlDrop', 'Percent', 'Emoji' } { $names.Count | Should -Be 1; break }
        'SetPattern' { $names | Should -Be @('run1', 'run2'); break }
        'EscapedBracket' { $names | Should -Be @('run[1]'); break }
        'UpperRun' { $names | Should -Be @('run1'); break }
        'Star' { $names.Count | Should -Be 6; break }
        { $_ -in 'Null', 'Empty' } { @($Out).Count | Should -BeGreaterThan 6; break }
        default { $names.Count | Should -Be 0 }
    }
}
Add-HostileRows Get-TrainingJob Name -Accepted 'SqlDrop', 'SqlOr', 'Percent', 'Emoji', 'Star', 'SetPattern', 'EscapedBracket', 'UpperRun',
    'Nul', 'Huge1MB', 'Backslashes', 'Null', 'Empty' -Rejected @{ 'InvalidWildcard/InvalidArgument' = 'OpenBracket', 'OpenSet', 'Wildcards' }

Register-HostileTarget Get-TrainingJob Type -Call { param($Db, $V) Get-TrainingJob -Database $Db -Type $V }
Add-HostileRows Get-TrainingJob Type -Accepted 'Null', 'NoSuchType' -Rejected @{
    'InvalidJobType/InvalidArgument' = @('SqlDrop', 'Empty', 'TypeNewline', 'Huge1MB', 'Nul') + $LoneSurrogates
}

Register-HostileTarget Get-TrainingJob Status -Call { param($Db, $V) Get-TrainingJob -Database $Db -Status $V }
Add-HostileRows Get-TrainingJob Status -Accepted 'Null', 'StatusPending' -Rejected @{ $Binding.Convert = 'SqlDrop', 'Bogus', 'Empty', 'Nul' }

Register-HostileTarget Get-TrainingJob WorkerId -Call { param($Db, $V) Get-TrainingJob -Database $Db -WorkerId $V } -Assert {
    param($Out, $Name, $Ctx)
    if ($Name -eq 'Seed.RunningWorker') { @($Out).Count | Should -BeGreaterThan 0 } elseif ($Name -ne 'Null') { @($Out).Count | Should -Be 0 }
}
Add-HostileRows Get-TrainingJob WorkerId -Accepted 'Seed.RunningWorker', 'SqlDrop', 'SqlOr', 'Huge1MB', 'Nul', 'Empty', 'Null', 'LoneHigh'

Register-HostileTarget Get-TrainingJob ScheduleId -Call { param($Db, $V) Get-TrainingJob -Database $Db -ScheduleId $V }
Add-HostileRows Get-TrainingJob ScheduleId -Accepted 'MinusOne', 'Zero', 'LongMax', 'LongMin', 'Null' -Rejected @{ $Binding.Convert = $BadLongs }

Register-HostileTarget Get-TrainingJob First -Call { param($Db, $V) Get-TrainingJob -Database $Db -First $V }
Add-HostileRows Get-TrainingJob First -Accepted 'One', 'IntMax' -Rejected @{
    $Binding.Validation = 'Zero', 'MinusOne', 'IntMin'
    $Binding.Convert = $BadLongs
}

# ---- Stop / Restart / Remove ---------------------------------------------------------------
foreach ($cmdlet in 'Stop-TrainingJob', 'Restart-TrainingJob', 'Remove-TrainingJob') {
    $call = [scriptblock]::Create("param(`$Db, `$V) $cmdlet -Database `$Db -Id `$V -Confirm:`$false")
    Register-HostileTarget $cmdlet Id -Call $call
    $rejected = @{
        'JobNotFound/ObjectNotFound' = $NotFoundIds
        $Binding.Convert = $BadLongs
        $Binding.Null = 'Null'
        $Binding.EmptyArray = 'EmptyArray'
    }
    switch ($cmdlet) {
        'Stop-TrainingJob' { $rejected['JobAlreadyFinished/InvalidOperation'] = 'Seed.Completed', 'Seed.Failed', 'Seed.Cancelled' }
        'Restart-TrainingJob' { $rejected['JobNotRestartable/InvalidOperation'] = 'Seed.Pending', 'Seed.Running', 'Seed.Completed' }
        'Remove-TrainingJob' { $rejected['JobIsRunning/InvalidOperation'] = 'Seed.Running' }
    }
    Add-HostileRows $cmdlet Id -Rejected $rejected
}
Register-HostileTarget Remove-TrainingJob Status -Call { param($Db, $V) Remove-TrainingJob -Database $Db -Status $V -OlderThan ([timespan]::MaxValue) -Confirm:$false }
Add-HostileRows Remove-TrainingJob Status -Rejected @{
    'InvalidArgument/InvalidArgument' = 'StatusPending', 'StatusRunning'
    $Binding.Convert = 'SqlDrop', 'Bogus'
    $Binding.Null = 'Null'
}
Register-HostileTarget Remove-TrainingJob OlderThan -Call { param($Db, $V) Remove-TrainingJob -Database $Db -Status Completed, Failed, Cancelled -OlderThan $V -Confirm:$false }
Add-HostileRows Remove-TrainingJob OlderThan -Accepted 'TsMax' -Rejected @{
    'InvalidArgument/InvalidArgument' = 'TsNegative', 'TsMin'
    $Binding.Convert = 'SqlOr', 'NaN'
}

# ---- Wait-TrainingJob ----------------------------------------------------------------------
Register-HostileTarget Wait-TrainingJob Id -Call { param($Db, $V) Wait-TrainingJob -Database $Db -Id $V -Timeout 0:0:5 }
Add-HostileRows Wait-TrainingJob Id -Accepted 'Seed.Completed' -Rejected @{
    'JobNotFound/ObjectNotFound' = $NotFoundIds
    $Binding.Convert = $BadLongs
    $Binding.Null = 'Null'
}
Register-HostileTarget Wait-TrainingJob Timeout -Call { param($Db, $V, $Ctx) Wait-TrainingJob -Database $Db -Id $Ctx.Pending -Timeout $V }
Add-HostileRows Wait-TrainingJob Timeout -Rejected @{
    'WaitTimeout/OperationTimeout' = 'TsZero', 'TsTick'
    'InvalidTimeout/InvalidArgument' = 'TsNegative', 'TsMin'
    $Binding.Convert = 'SqlOr'
}
# A poll interval far beyond -Timeout must neither throw nor delay the timeout.
Register-HostileTarget Wait-TrainingJob PollInterval -Call { param($Db, $V, $Ctx) Wait-TrainingJob -Database $Db -Id $Ctx.Pending -Timeout 0:0:0.3 -PollInterval $V }
Add-HostileRows Wait-TrainingJob PollInterval -Rejected @{ 'WaitTimeout/OperationTimeout' = 'TsMax', 'TsZero', 'TsNegative', 'TsMin', 'TsTick' }

# ---- Write-TrainingJobLog / Get-TrainingJobLog ---------------------------------------------
$lastLog = { param($Db, $Out, $Ctx) (Get-TrainingJobLog -Database $Db -Id $Ctx.Pending -Tail 1).Message }
$lastLogSql = { param($Out, $Ctx) "SELECT message AS v FROM job_logs WHERE job_id = $($Ctx.Pending) ORDER BY log_id DESC LIMIT 1" }
Register-HostileTarget Write-TrainingJobLog Message -Setup { param($Db) New-HostilePending $Db } `
    -Call { param($Db, $V, $Ctx) Write-TrainingJobLog -Database $Db -Id $Ctx.Pending -Message $V } -ReadBack $lastLog -Sql $lastLogSql
Add-HostileRows Write-TrainingJobLog Message -Stored ($ExactStrings + 'Huge1MB') -Rejected @{
    'InvalidText/InvalidArgument' = $LoneSurrogates
    $Binding.Null = 'Null'
}
Register-HostileTarget Write-TrainingJobLog Id -Call { param($Db, $V) Write-TrainingJobLog -Database $Db -Id $V -Message 'x' }
Add-HostileRows Write-TrainingJobLog Id -Rejected @{ 'JobNotFound/ObjectNotFound' = $NotFoundIds; $Binding.Convert = $BadLongs }
Register-HostileTarget Write-TrainingJobLog Level -Setup { param($Db) New-HostilePending $Db } `
    -Call { param($Db, $V, $Ctx) Write-TrainingJobLog -Database $Db -Id $Ctx.Pending -Message 'x' -Level $V } `
    -ReadBack { param($Db, $Out, $Ctx) "$((Get-TrainingJobLog -Database $Db -Id $Ctx.Pending -Tail 1).Level)" } -Expect { param($V) 'Warning' }
Add-HostileRows Write-TrainingJobLog Level -Stored 'Warning' -Rejected @{ $Binding.Convert = 'Fatal', 'SqlDrop', 'Empty'; $Binding.NullToValueType = 'Null' }
# Inside a job the id comes from $env:JOBQUEUE_JOB_ID: a hostile environment gets a clear error.
Register-HostileTarget Write-TrainingJobLog JOBQUEUE_JOB_ID -Call {
    param($Db, $V)
    $saved = $env:JOBQUEUE_JOB_ID
    try { $env:JOBQUEUE_JOB_ID = $V; Write-TrainingJobLog -Database $Db -Message 'x' } finally { $env:JOBQUEUE_JOB_ID = $saved }
}
Add-HostileRows Write-TrainingJobLog JOBQUEUE_JOB_ID -Rejected @{
    'JobIdRequired/InvalidArgument' = 'SqlDrop', 'Int64Overflow', 'Whitespace', 'Empty', 'Emoji'
    'JobNotFound/ObjectNotFound' = 'MinusOne', 'LongMax'
}
Register-HostileTarget Write-TrainingJobLog JOBQUEUE_ATTEMPT -Setup { param($Db) New-HostilePending $Db } -Call {
    param($Db, $V, $Ctx)
    $saved = $env:JOBQUEUE_JOB_ID, $env:JOBQUEUE_ATTEMPT
    try { $env:JOBQUEUE_JOB_ID = $Ctx.Pending; $env:JOBQUEUE_ATTEMPT = $V; Write-TrainingJobLog -Database $Db -Message 'x' }
    finally { $env:JOBQUEUE_JOB_ID, $env:JOBQUEUE_ATTEMPT = $saved }
} -ReadBack { param($Db, $Out, $Ctx) (Get-TrainingJobLog -Database $Db -Id $Ctx.Pending).Attempt } -Expect { param($V) $null }
Add-HostileRows Write-TrainingJobLog JOBQUEUE_ATTEMPT -Stored 'SqlDrop', 'Int64Overflow', 'Emoji'

Register-HostileTarget Get-TrainingJobLog Id -Call { param($Db, $V) Get-TrainingJobLog -Database $Db -Id $V }
Add-HostileRows Get-TrainingJobLog Id -Accepted 'Seed.Pending' -Rejected @{
    'JobNotFound/ObjectNotFound' = $NotFoundIds
    $Binding.Convert = $BadLongs
    $Binding.Null = 'Null'
}
Register-HostileTarget Get-TrainingJobLog Tail -Call { param($Db, $V, $Ctx) Get-TrainingJobLog -Database $Db -Id $Ctx.Pending -Tail $V }
Add-HostileRows Get-TrainingJobLog Tail -Accepted 'Zero', 'IntMax' -Rejected @{ $Binding.Validation = 'MinusOne', 'IntMin'; $Binding.Convert = $BadLongs }
Register-HostileTarget Get-TrainingJobLog Level -Call { param($Db, $V, $Ctx) Get-TrainingJobLog -Database $Db -Id $Ctx.Pending -Level $V }
Add-HostileRows Get-TrainingJobLog Level -Accepted 'Null', 'Warning' -Rejected @{ $Binding.Convert = 'Fatal', 'SqlDrop' }
Register-HostileTarget Get-TrainingJobLog PollInterval -Call { param($Db, $V, $Ctx) Get-TrainingJobLog -Database $Db -Id $Ctx.Completed -Wait -PollInterval $V }
Add-HostileRows Get-TrainingJobLog PollInterval -Accepted 'TsMax', 'TsZero', 'TsNegative', 'TsMin'

# ---- Receive-TrainingJob / Complete-TrainingJob --------------------------------------------
Register-HostileTarget Receive-TrainingJob WorkerId -Setup { param($Db) New-HostilePending $Db } `
    -Call { param($Db, $V, $Ctx) Receive-TrainingJob -Database $Db -WorkerId $V -Type $Ctx.PendingType } `
    -ReadBack { param($Db, $Out, $Ctx) (Get-TrainingJob -Database $Db -Id $Ctx.Pending).WorkerId } `
    -Sql { param($Out, $Ctx) "SELECT worker_id AS v FROM jobs WHERE job_id = $($Ctx.Pending)" }
Add-HostileRows Receive-TrainingJob WorkerId -Stored (($ExactStrings | Where-Object { $_ -notin 'Whitespace', 'Empty' }) + 'Huge1MB') -Rejected @{
    'InvalidArgument/InvalidArgument' = 'Whitespace'
    'InvalidText/InvalidArgument' = $LoneSurrogates
    $Binding.Validation = 'Empty', 'Null'
}
Register-HostileTarget Receive-TrainingJob Type -Call { param($Db, $V) Receive-TrainingJob -Database $Db -Type $V }
Add-HostileRows Receive-TrainingJob Type -Accepted 'NoSuchType' -Rejected @{
    'InvalidJobType/InvalidArgument' = @('SqlDrop', 'Empty', 'TypeNewline', 'Huge1MB') + $LoneSurrogates
}
Register-HostileTarget Receive-TrainingJob Lease -Setup { param($Db) New-HostilePending $Db } `
    -Call { param($Db, $V, $Ctx) Receive-TrainingJob -Database $Db -Type $Ctx.PendingType -Lease $V } `
    -ReadBack { param($Db, $Out, $Ctx) "$((Get-TrainingJob -Database $Db -Id $Ctx.Pending).Status)" } -Expect { param($V) 'Running' }
Add-HostileRows Receive-TrainingJob Lease -Stored 'TsTick', 'TsMax' -Rejected @{
    'InvalidLease/InvalidArgument' = 'TsZero', 'TsNegative', 'TsMin'
    $Binding.Convert = 'SqlOr'
}

Register-HostileTarget Complete-TrainingJob Id -Call { param($Db, $V) Complete-TrainingJob -Database $Db -Id $V }
Add-HostileRows Complete-TrainingJob Id -Rejected @{
    'JobNotFound/ObjectNotFound' = $NotFoundIds
    'JobNotOwned/InvalidOperation' = 'Seed.Pending', 'Seed.Completed', 'Seed.Cancelled'
    $Binding.Convert = $BadLongs
    $Binding.Null = 'Null'
}
Register-HostileTarget Complete-TrainingJob ErrorMessage -Setup { param($Db) New-HostileRunning $Db } `
    -Call { param($Db, $V, $Ctx) Complete-TrainingJob -Database $Db -Id $Ctx.Running -Failed -ErrorMessage $V } `
    -ReadBack { param($Db, $Out, $Ctx) (Get-TrainingJob -Database $Db -Id $Ctx.Running).ErrorMessage } `
    -Sql { param($Out, $Ctx) "SELECT error_message AS v FROM jobs WHERE job_id = $($Ctx.Running)" } `
    -Expect { param($V) if ($null -eq $V) { 'Failed.' } else { $V } }
Add-HostileRows Complete-TrainingJob ErrorMessage -Stored ($ExactStrings + 'Huge1MB', 'Null') -Rejected @{ 'InvalidText/InvalidArgument' = $LoneSurrogates }
Register-HostileTarget Complete-TrainingJob WorkerId -Call { param($Db, $V, $Ctx) Complete-TrainingJob -Database $Db -Id $Ctx.Running -WorkerId $V }
Add-HostileRows Complete-TrainingJob WorkerId -Rejected @{ 'JobNotOwned/InvalidOperation' = 'SqlDrop', 'SqlOr', 'Huge1MB', 'Nul', 'Empty', 'Emoji', 'LoneHigh' }
Register-HostileTarget Complete-TrainingJob Attempt -Call { param($Db, $V, $Ctx) Complete-TrainingJob -Database $Db -Id $Ctx.Running -Attempt $V }
Add-HostileRows Complete-TrainingJob Attempt -Rejected @{ 'JobNotOwned/InvalidOperation' = 'MinusOne', 'Zero', 'IntMax', 'IntMin'; $Binding.Convert = $BadLongs }
Register-HostileTarget Complete-TrainingJob ExitCode -Setup { param($Db) New-HostileRunning $Db } `
    -Call { param($Db, $V, $Ctx) Complete-TrainingJob -Database $Db -Id $Ctx.Running -Failed -ExitCode $V } `
    -ReadBack { param($Db, $Out, $Ctx) (Get-TrainingJob -Database $Db -Id $Ctx.Running).ExitCode }
Add-HostileRows Complete-TrainingJob ExitCode -Stored 'Zero', 'MinusOne', 'IntMax', 'IntMin', 'Null' -Rejected @{ $Binding.Convert = $BadLongs }
Register-HostileTarget Complete-TrainingJob RetryDelay -Setup { param($Db) New-HostileRunning $Db -MaxRetries 3 } `
    -Call { param($Db, $V, $Ctx) Complete-TrainingJob -Database $Db -Id $Ctx.Running -Failed -RetryDelay $V } `
    -ReadBack { param($Db, $Out, $Ctx) "$((Get-TrainingJob -Database $Db -Id $Ctx.Running).Status)" } -Expect { param($V) 'Pending' }
Add-HostileRows Complete-TrainingJob RetryDelay -Stored 'TsZero', 'TsTick', 'TsMax' -Rejected @{
    'InvalidRetryDelay/InvalidArgument' = 'TsNegative', 'TsMin'
    $Binding.Convert = 'SqlOr'
}

# ---- Get-JobQueueStatistics / Backup-JobQueue / Initialize-JobQueue -------------------------
Register-HostileTarget Get-JobQueueStatistics Type -Call { param($Db, $V) Get-JobQueueStatistics -Database $Db -Type $V }
Add-HostileRows Get-JobQueueStatistics Type -Accepted 'Null', 'NoSuchType' -Rejected @{
    'InvalidJobType/InvalidArgument' = @('SqlDrop', 'SqlOr', 'Empty', 'TypeNewline', 'Huge1MB', 'Nul') + $LoneSurrogates
}

Register-HostileTarget Backup-JobQueue Destination -Call { param($Db, $V) Backup-JobQueue -Database $Db -Destination $V } -Assert {
    param($Out, $Name, $Ctx)
    $Out.FullName | Should -Exist
    (Invoke-Sqlite3 $Out.FullName 'PRAGMA integrity_check;') | Should -Be 'ok'
}
Add-HostileRows Backup-JobQueue Destination -Accepted 'BackupSqlName', 'BackupWildcardName', 'BackupEmojiName', 'BackupNewFolder' -Rejected @{
    'DestinationExists/ResourceExists' = 'FolderPath', 'DevNull', 'ExistingFile'
    'DestinationNotWritable/WriteError' = 'BelowFile'
    'InvalidDestination/InvalidArgument' = 'NulPath', 'EnvDrive'
    'DriveNotFound/ObjectNotFound' = 'MissingDrive'
    $Binding.Validation = 'Empty', 'Null'
}
# -Force replaces a file, never a folder or a device (as root, moving over /dev/null replaces it).
Register-HostileTarget Backup-JobQueue DestinationForce -Call { param($Db, $V) Backup-JobQueue -Database $Db -Destination $V -Force }
Add-HostileRows Backup-JobQueue DestinationForce -Rejected @{ 'DestinationExists/ResourceExists' = 'FolderPath', 'DevNull' }

Register-HostileTarget Initialize-JobQueue Durability -Call { param($Db, $V) Initialize-JobQueue -Database $Db -Durability $V }
Add-HostileRows Initialize-JobQueue Durability -Accepted 'Null' -Rejected @{ $Binding.Convert = 'SqlDrop', 'Bogus', 'Empty', 'Nul' }

# ---- -Database, for every cmdlet (SQLite paths; a bad path must stay as it was) --------------
$script:DatabaseCalls = [ordered]@{
    'Initialize-JobQueue'    = { param($Db) Initialize-JobQueue -Database $Db }
    'Submit-TrainingJob'     = { param($Db) Submit-TrainingJob -Database $Db -Type training }
    'Get-TrainingJob'        = { param($Db) Get-TrainingJob -Database $Db }
    'Stop-TrainingJob'       = { param($Db) Stop-TrainingJob -Database $Db -Id 1 }
    'Restart-TrainingJob'    = { param($Db) Restart-TrainingJob -Database $Db -Id 1 }
    'Remove-TrainingJob'     = { param($Db) Remove-TrainingJob -Database $Db -Id 1 -Confirm:$false }
    'Wait-TrainingJob'       = { param($Db) Wait-TrainingJob -Database $Db -Id 1 -Timeout 0 }
    'Write-TrainingJobLog'   = { param($Db) Write-TrainingJobLog -Database $Db -Id 1 -Message 'x' }
    'Get-TrainingJobLog'     = { param($Db) Get-TrainingJobLog -Database $Db -Id 1 }
    'Receive-TrainingJob'    = { param($Db) Receive-TrainingJob -Database $Db -WorkerId 'w' }
    'Complete-TrainingJob'   = { param($Db) Complete-TrainingJob -Database $Db -Id 1 }
    'Get-JobQueueStatistics' = { param($Db) Get-JobQueueStatistics -Database $Db }
    'Backup-JobQueue'        = { param($Db) Backup-JobQueue -Database $Db -Destination (Join-Path ([IO.Path]::GetTempPath()) "jq-never-$([guid]::NewGuid()).db") }
}
$script:DatabasePathRows = @{
    'DatabaseNotWritable/WriteError'              = 'FolderPath', 'BelowFile', 'DevNull', 'NulPath', 'EnvDrive'
    'NotAJobQueueDatabase/InvalidData'            = 'NonDbFile', 'OtherSqlite'
    'SchemaTooNew/InvalidData'                    = , 'FutureSchema'
    'CorruptData/InvalidData'                     = , 'CorruptDb'
    'DriveNotFound/ObjectNotFound'                = , 'MissingDrive'
    'ParameterArgumentValidationError/InvalidData' = 'Empty', 'Null'
}

# The schedule and worker cmdlets.
. (Join-Path $PSScriptRoot 'HostileInput.Schedules.Cases.ps1')

function Get-HostileCaseGroups {
    # The rows grouped by cmdlet, for Pester's -ForEach.
    $script:HostileRows | Group-Object { $_.Cmdlet } | ForEach-Object { @{ Cmdlet = $_.Name; Rows = @($_.Group) } }
}

function Get-DatabasePathCases {
    foreach ($cmdlet in $script:DatabaseCalls.Keys) {
        foreach ($key in $script:DatabasePathRows.Keys | Sort-Object) {
            $errorId, $category = $key -split '/'
            foreach ($value in $script:DatabasePathRows[$key]) {
                @{ Cmdlet = $cmdlet; Parameter = 'Database'; Value = $value; Expect = 'Rejected'; ErrorId = $errorId; Category = $category }
            }
        }
    }
}
