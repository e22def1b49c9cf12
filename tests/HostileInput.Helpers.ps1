# Helpers of the hostile-input suite (HostileInput.Tests.ps1): the catalog of nasty values, a
# seeded queue, snapshots that show any change, and the checks every case makes.
# Dot-source after TestHelpers.ps1.

function New-HostileValues {
    # Every nasty value the rows name, built once per backend (paths live under $Folder).
    param([Parameter(Mandatory)] [string] $Folder)
    $v = [ordered]@{}
    # Strings that must come back byte for byte wherever text is stored.
    $v.SqlDrop = "'; DROP TABLE jobs; --"
    $v.SqlOr = '1 OR 1=1'
    $v.SqlComment = "x' /* */ UNION SELECT * FROM jobs --"
    $v.SingleQuotes = "it's 'quoted' ''twice''"
    $v.DoubleQuotes = 'say "hi" ""'
    $v.Backticks = 'a`b`n`$x`'
    $v.Subexpression = '$(Remove-Item -Recurse -Force /) @(1) ${env:HOME}'
    $v.ShellMeta = '; rm -rf / | cat && echo `id` > /tmp/x $(id) %PATH% ^&'
    $v.Backslashes = 'C:\path\with\\double\ and trailing\'
    $v.Percent = '100% _under_ \%'
    $v.Wildcards = '*?[]`*'
    $v.Nul = "a`0b"
    $v.OnlyNul = "`0"
    $v.CrLf = "line1`r`nline2`rline3`n"
    $v.Esc = "`e[31mred`e[0m `e]0;title`a"
    $v.Controls = -join ((1..31) + 127 | ForEach-Object { [char]$_ })
    $v.Rtl = "abc`u{202E}cba`u{200F}`u{061C}"
    $v.Emoji = "`u{1F680}`u{1F525} ok `u{1F469}`u{200D}`u{1F4BB}"
    $v.Combining = "e`u{0301} Z`u{0324}`u{0355}a`u{033A}l`u{0318}g`u{0328}o"
    $v.ZeroWidth = "`u{200B}`u{FEFF}`u{2060}"
    $v.NonCharacters = "`u{FFFE}`u{FFFF}`u{10FFFF}"
    $v.Whitespace = "  `t  "
    $v.Empty = ''
    $v.Null = $null
    $v.Huge1MB = 'x' * 1MB
    # Text that has no UTF-8 form: refused, never stored as U+FFFD.
    $v.LoneHigh = 'a' + [char]0xD800 + 'b'
    $v.LoneLow = 'a' + [char]0xDC00
    $v.ReversedPair = [string][char]0xDC00 + [char]0xD800
    # Names and types at and past their limits.
    $v.Name256 = 'n' * 256
    $v.Name257 = 'n' * 257
    $v.Type64 = 't' + 'x' * 63
    $v.Type65 = 't' + 'x' * 64
    $v.TypeNewline = "training`n"
    $v.TypeAccent = "tr`u{00E1}ining"
    $v.LeadingDigit = '1training'
    $v.NoSuchType = 'nosuchtype'
    $v.Training = 'training'
    # Numbers.
    foreach ($n in @{ Zero = 0; One = 1; Ten = 10; Eleven = 11; MinusOne = -1; Thousand = 1000; Thousand1 = 1001; Gpu1024 = 1024; Gpu1025 = 1025 }.GetEnumerator()) { $v[$n.Key] = [int]$n.Value }
    $v.IntMax = [int]::MaxValue
    $v.IntMin = [int]::MinValue
    $v.LongMax = [long]::MaxValue
    $v.LongMin = [long]::MinValue
    $v.Int64Overflow = '9223372036854775808'
    $v.UInt64Max = [ulong]::MaxValue
    $v.BigInt = [bigint]::Parse('123456789012345678901234567890')
    $v.DecimalMax = [decimal]::MaxValue
    $v.DoubleMax = [double]::MaxValue
    $v.DoubleEpsilon = [double]::Epsilon
    $v.Fraction = 0.1
    $v.NaN = [double]::NaN
    $v.PosInf = [double]::PositiveInfinity
    $v.NegInf = [double]::NegativeInfinity
    $v.EmptyArray = [long[]]@()
    # Time spans and dates.
    $v.TsTick = [timespan]::FromTicks(1)
    $v.TsOdd = [timespan]::FromTicks(12345678901)
    $v.TsZero = [timespan]::Zero
    $v.TsNegative = [timespan]::FromSeconds(-1)
    $v.TsMax = [timespan]::MaxValue
    $v.TsMin = [timespan]::MinValue
    $v.DtMin = [datetime]::MinValue
    $v.DtMax = [datetime]::MaxValue
    $v.DtUtcMs = [datetime]::new(2030, 1, 2, 3, 4, 5, 678, [DateTimeKind]::Utc)
    # Enum-like words.
    $v.Bogus = 'Bogus'
    $v.Fatal = 'Fatal'
    $v.Warning = 'warning'
    $v.StatusPending = 'Pending'
    $v.StatusRunning = 'Running'
    $v.Normal = 'Normal'
    # Wildcards for -Name.
    $v.Star = '*'
    $v.SetPattern = 'run[12]'
    $v.EscapedBracket = 'run`[1`]'
    $v.UpperRun = 'RUN1'
    $v.OpenBracket = '['
    $v.OpenSet = 'run[1'
    # Configs as objects and as JSON text.
    $deep = { param($n) $h = @{ leaf = 1 }; for ($i = 1; $i -lt $n; $i++) { $h = @{ k = $h } }; $h }
    $v.Nested63 = & $deep 63
    $v.Nested100 = & $deep 100
    $v.KeyCollision = @{}; $v.KeyCollision[1] = 'int'; $v.KeyCollision['1'] = 'string'
    $caseKeys = [hashtable]::new([StringComparer]::Ordinal); $caseKeys['a'] = 1; $caseKeys['A'] = 2
    $v.CaseKeys = $caseKeys
    $v.HostileProperties = [pscustomobject]@{ "'; DROP TABLE jobs; --" = 1; "a`0b" = 2; "`u{1F680}" = 3; ' ' = 4; '$(id)' = 5 }
    $v.ScalarConfig = 5
    $v.ArrayConfig = @(1, 2)
    $v.JsonWhitespace = " {`n`t""a"" :  1 ,""b"":[ ] }`n "
    $v.JsonDupKeys = '{"a":1,"a":2}'
    $v.JsonEscapes = '{"s":"\u0000\n\t\"\\\/\ud83d\ude80\u00e9","\u0000k":null}'
    $v.JsonDeep64 = ('{"a":' * 63) + '1' + ('}' * 63)
    $v.JsonDeep65 = ('{"a":' * 65) + '1' + ('}' * 65)
    $v.JsonDeep100 = ('{"a":' * 100) + '1' + ('}' * 100)
    $v.JsonHuge = '{"blob":"' + ('y' * 1MB) + '"}'
    $v.JsonArray = '[1,2]'
    $v.JsonString = '"x"'
    $v.JsonNumber = '1'
    $v.JsonNull = 'null'
    $v.JsonTruncated = '{"a":'
    $v.JsonTrailing = '{} {}'
    $v.JsonComment = '{} // comment'
    $v.JsonSingleQuoted = "{'a':1}"
    $v.JsonNaN = '{"a":NaN}'
    $v.JsonHugeNumber = '{"a":1e400}'
    $v.JsonLoneEscape = '{"a":"\ud800"}'
    $v.JsonLoneKey = '{"\udc00":1}'
    $v.JsonBom = "`u{FEFF}{}"
    $v.JsonRawControl = "{""a"":""tab`there""}"
    # Schedules: cron expressions, names, time zones, moments.
    $v.CronMinutely = '* * * * *'
    $v.CronYearly = '@yearly'
    $v.CronLeapDay = '0 0 29 2 *'
    $v.CronBlanks = "  0`t 3  * *   * "
    $v.CronNever = '0 0 30 2 *'
    $v.CronMinute61 = '61 * * * *'
    $v.CronSeconds = '* * * * * *'
    $v.CronReboot = '@reboot'
    $v.CronStepZero = '*/0 * * * *'
    $v.CronHugeStep = '0-59/1000 * * * *'
    $v.CronNthSixth = '0 0 ? * MON#6'
    $v.CronTooLong = ('* ' * 100).Trim()
    $v.ScheduleName = 'nightly-retrain.v2_x'
    $v.ScheduleNameUpper = 'NIGHTLY-Retrain.V3'
    $v.ScheduleName128 = 's' + 'x' * 127
    $v.ScheduleName129 = 's' + 'x' * 128
    $v.SeedSchedulePattern = 'seed-*'
    $v.ZoneUtc = 'UTC'
    $v.ZoneUtcLower = 'utc'
    $v.ZoneBerlin = 'Europe/Berlin'
    $v.ZoneGmtMinus14 = 'Etc/GMT-14'
    $v.ZoneGmtPlus14 = 'Etc/GMT+14'
    $v.ZoneWindows = 'Pacific Standard Time'
    $v.ZoneTrailingBlank = 'Europe/London '
    $v.ZoneTraversal = '../../../../etc/passwd'
    $v.ZoneAbsolute = '/etc/localtime'
    $v.ZoneOffset = 'UTC+01:00'
    $v.ZoneLocal = 'Local'
    $v.DtoMin = [datetimeoffset]::MinValue
    $v.DtoMax = [datetimeoffset]::MaxValue
    $v.RunAll = 'RunAll'
    $v.Queue = 'Queue'
    # Workers: ids, GPU lists, durations, handlers, states.
    $v.WorkerId200 = 'w' * 200
    $v.GpuOne = [int[]]@(0)
    $v.GpuMany = [int[]](0..1023)
    $v.GpuHigh = [int[]]@([int]::MaxValue)
    $v.GpuNegative = [int[]]@(3, -1)
    $v.GpuRepeated = [int[]]@(1, 2, 1)
    $v.GpuEmpty = [int[]]@()
    $v.TsSecond = [timespan]::FromSeconds(1)
    $v.TsDay = [timespan]::FromHours(24)
    $v.TsDayAndTick = [timespan]::FromHours(24) + [timespan]::FromTicks(1)
    $v.HandlerNumber = @{ training = 5 }
    $v.HandlerEmptyText = @{ training = '' }
    $v.HandlerEmptyVector = @{ training = @() }
    $v.HandlerEmptyProgram = @{ training = @('', 'x') }
    $v.HandlerHashtable = @{ training = @{ a = 1 } }
    $v.HandlerObjects = @{ training = @('python', (Get-Date)) }
    $v.HandlerBadType = @{ 'bad type' = 'python' }
    $v.StateStopped = 'Stopped'
    # Paths.
    $v.FolderPath = New-Item -ItemType Directory -Force (Join-Path $Folder 'a-folder') | ForEach-Object FullName
    $regular = Join-Path $Folder 'regular.txt'; Set-Content -LiteralPath $regular 'plain text'
    $v.BelowFile = Join-Path $regular 'jobs.db'
    $v.NonDbFile = Join-Path $Folder 'notes.txt'; Set-Content -LiteralPath $v.NonDbFile 'not a database, just notes'
    $v.EmptyFile = Join-Path $Folder 'empty.json'; New-Item -ItemType File $v.EmptyFile | Out-Null
    $v.MissingFile = Join-Path $Folder 'missing/none.json'
    $v.DevNull = '/dev/null'
    $v.NulPath = Join-Path $Folder "nul`0.db"
    $v.EnvDrive = 'Env:/PATH'
    $v.MissingDrive = 'nodrive:/jobs.db'
    $v.ConfigFile = Join-Path $Folder 'config.json'; [IO.File]::WriteAllText($v.ConfigFile, $v.JsonEscapes)
    $v.WildcardNamedConfig = Join-Path $Folder '[cfg]*.json'; [IO.File]::WriteAllText($v.WildcardNamedConfig, '{"from":"[cfg]*.json"}')
    $v.OtherSqlite = Join-Path $Folder 'other.db'; Invoke-Sqlite3 $v.OtherSqlite 'CREATE TABLE t(x); INSERT INTO t VALUES (1);' | Out-Null
    # Made from a copy: this process keeps the database it initialized open, and would go on using it.
    $fresh = Join-Path $Folder 'fresh.db'
    Initialize-JobQueue -Database $fresh | Out-Null
    $v.FutureSchema = Join-Path $Folder 'future.db'
    Copy-Item -LiteralPath $fresh $v.FutureSchema
    Invoke-Sqlite3 $v.FutureSchema 'PRAGMA user_version = 999;' | Out-Null
    $v.CorruptDb = Join-Path $Folder 'corrupt.db'
    $bytes = [IO.File]::ReadAllBytes($fresh); for ($i = 100; $i -lt $bytes.Length; $i++) { $bytes[$i] = 0x5A }
    [IO.File]::WriteAllBytes($v.CorruptDb, $bytes)
    $v.ExistingFile = Join-Path $Folder 'existing.db'; Set-Content -LiteralPath $v.ExistingFile 'old backup'
    $v.BackupSqlName = Join-Path $Folder "b'; DROP TABLE jobs; --.db"
    $v.BackupWildcardName = Join-Path $Folder '[bk]*.db'
    $v.BackupEmojiName = Join-Path $Folder "`u{1F680} backup.db"
    $v.BackupNewFolder = Join-Path $Folder 'new/sub/backup.db'
    $v
}

function Get-HostileValue {
    # A value by catalog name, or 'Seed.X': property X of the case's context (a seeded job id).
    param([string] $Name, [System.Collections.IDictionary] $Values, [hashtable] $Context)
    if ($Name -like 'Seed.*') {
        $key = $Name.Substring(5)
        if (-not $Context.ContainsKey($key)) { throw "The case context has no '$key'." }
        return , $Context[$key]
    }
    if (-not $Values.Contains($Name)) { throw "No hostile value is named '$Name'." }
    return , $Values[$Name]
}

function New-UniqueType { 'h' + [guid]::NewGuid().ToString('N').Substring(0, 16) }

function New-HostilePending([string] $Database) {
    $type = New-UniqueType
    $job = Submit-TrainingJob -Database $Database -Type $type -Config @{ seed = 'pending' }
    @{ Pending = $job.JobId; PendingType = $type }
}

function New-HostileRunning([string] $Database, [int] $MaxRetries = 0) {
    $type = New-UniqueType
    Submit-TrainingJob -Database $Database -Type $type -MaxRetries $MaxRetries | Out-Null
    $job = Receive-TrainingJob -Database $Database -Type $type -WorkerId 'hostile-worker'
    @{ Running = $job.JobId; RunningWorker = $job.WorkerId; RunningAttempt = $job.Attempt }
}

function New-HostileSeed {
    # The small queue that rejected and accepted cases run against: a stopped worker, an enabled
    # and a disabled schedule, one job in each state, some named for the -Name filters, each with
    # a log line. Returns the ids as the case context.
    param([Parameter(Mandatory)] [string] $Database)
    # The worker first: it rescues expired leases, and the running job below must stay running.
    Start-JobWorker -Database $Database -WorkerId 'seed-worker' -Type (New-UniqueType) -ExitWhenEmpty -PollInterval 0:0:0.2 | Out-Null
    $daily = New-JobSchedule -Database $Database -Name 'seed-daily' -Type training -Cron '0 3 * * *' -TimeZone 'Europe/Berlin'
    $off = New-JobSchedule -Database $Database -Name 'seed-off' -Type evaluation -Cron '@weekly' -Disabled
    $ctx = New-HostilePending $Database
    $ctx.WorkerId = 'seed-worker'
    $ctx.ScheduleName = $daily.Name
    $ctx.ScheduleNameUpper = $daily.Name.ToUpperInvariant()
    $ctx.ScheduleId = $daily.ScheduleId
    $ctx.DisabledScheduleName = $off.Name
    foreach ($name in 'run1', 'run2', 'run[1]', "'; DROP TABLE jobs; --", '100% _under_ \%', "`u{1F680}`u{1F525} ok `u{1F469}`u{200D}`u{1F4BB}") {
        Submit-TrainingJob -Database $Database -Type seednamed -Name $name | Out-Null
    }
    $running = New-HostileRunning $Database
    $done = New-HostileRunning $Database
    Complete-TrainingJob -Database $Database -Id $done.Running
    $failed = New-HostileRunning $Database
    Complete-TrainingJob -Database $Database -Id $failed.Running -Failed -ErrorMessage 'seeded failure'
    $cancelled = Submit-TrainingJob -Database $Database -Type seedcancel
    Stop-TrainingJob -Database $Database -Id $cancelled.JobId
    $ctx += $running
    $ctx.Completed = $done.Running
    $ctx.Failed = $failed.Running
    $ctx.Cancelled = $cancelled.JobId
    $ctx.Missing = 987654321
    foreach ($id in $ctx.Pending, $ctx.Running, $ctx.Completed) {
        Write-TrainingJobLog -Database $Database -Id $id -Message "seed line of job $id"
    }
    $ctx
}

function Invoke-Sqlite3 {
    # The sqlite3 command-line shell: a reader independent of the module.
    param([Parameter(Mandatory)] [string] $Database, [Parameter(Mandatory)] [string] $Sql)
    if (-not (Get-Command sqlite3 -CommandType Application -ErrorAction Ignore)) {
        throw 'These tests read the database with the sqlite3 command-line shell; install it (apt-get install sqlite3).'
    }
    $out = & sqlite3 -bail $Database $Sql 2>&1
    if ($LASTEXITCODE -ne 0) { throw "sqlite3 failed on '$Sql': $out" }
    $out
}

function Read-Sqlite3Texts {
    # The single values of queries whose column is named v, as SQLite stores them: NULL or the
    # exact UTF-8 text (carried as hex, so no console encoding can alter it). One shell for all.
    param([string] $Database, [string[]] $Sql)
    $script = for ($i = 0; $i -lt $Sql.Count; $i++) {
        "SELECT '$i|' || CASE WHEN v IS NULL THEN 'NULL' ELSE hex(CAST(v AS BLOB)) END FROM ($($Sql[$i]));"
    }
    $file = [IO.Path]::GetTempFileName()
    try {
        [IO.File]::WriteAllLines($file, [string[]]$script)
        $lines = Invoke-Sqlite3 $Database ".read '$file'"
    } finally {
        Remove-Item -LiteralPath $file
    }
    $texts = [object[]]::new($Sql.Count)
    $seen = 0
    foreach ($line in $lines) {
        $index, $hex = "$line".Split('|', 2)
        $texts[[int]$index] = if ($hex -eq 'NULL') { $null } else { [Text.Encoding]::UTF8.GetString([Convert]::FromHexString($hex)) }
        $seen++
    }
    $seen | Should -Be $Sql.Count -Because 'each query returns one row'
    , $texts
}

function Get-QueueSnapshot {
    # Everything a user could see of a queue, as text: every job with every stored field, every
    # log line, the statistics, every schedule and every worker; for SQLite also a hash of the
    # database file and its write-ahead log, which any write at all would change. Equal snapshots: nothing changed.
    param([Parameter(Mandatory)] [string] $Database, [Parameter(Mandatory)] [string] $Backend)
    $fields = 'JobId', 'Name', 'JobType', 'Status', 'Priority', 'ConfigJson', 'Command', 'CreatedAt', 'StartedAt',
    'CompletedAt', 'ErrorMessage', 'WorkerId', 'RetryCount', 'MaxRetries', 'ExitCode', 'Timeout', 'GpuCount', 'Gpus',
    'ScheduleId', 'NotBefore', 'Attempt', 'LeaseExpiresAt', 'CancelRequested', 'ScheduledFor'
    $jobs = @(Get-TrainingJob -Database $Database | Sort-Object JobId)
    $lines = @($jobs | Select-Object $fields | ForEach-Object { ConvertTo-Json $_ -Compress -Depth 3 })
    $lines += $jobs | Get-TrainingJobLog | ForEach-Object { '{0} {1} {2:o} {3} {4} {5}' -f $_.JobId, $_.LogId, $_.Timestamp, $_.Level, $_.Attempt, $_.Message }
    $lines += Get-JobQueueStatistics -Database $Database | ConvertTo-Json -Compress -Depth 3
    $lines += Get-JobSchedule -Database $Database | Select-Object * -ExcludeProperty Database, Config | ForEach-Object { ConvertTo-Json $_ -Compress -Depth 3 }
    $lines += Get-JobWorker -Database $Database | Select-Object * -ExcludeProperty Database | ForEach-Object { ConvertTo-Json $_ -Compress -Depth 3 }
    if ($Backend -eq 'SQLite') {
        $lines += foreach ($file in $Database, "$Database-wal") {
            if (Test-Path -LiteralPath $file) { "$file $((Get-FileHash -LiteralPath $file).Hash)" }
        }
    }
    $lines -join "`n"
}

function Invoke-HostileCall {
    # Runs one case's call and collects what came out: objects, and every error record,
    # non-terminating or terminating.
    param([scriptblock] $Call, [object[]] $Arguments)
    $ErrorActionPreference = 'Continue'
    $errors = [Collections.Generic.List[Management.Automation.ErrorRecord]]::new()
    $output = [Collections.Generic.List[object]]::new()
    try {
        & $Call @Arguments 2>&1 | ForEach-Object {
            if ($_ -is [Management.Automation.ErrorRecord]) { $errors.Add($_) } else { $output.Add($_) }
        }
    } catch {
        $errors.Add($_)
    }
    [pscustomobject]@{ Output = $output.ToArray(); Errors = $errors.ToArray() }
}

function Assert-DocumentedError {
    # A user mistake is reported, never crashed on: a stable id, the right category, no raw
    # .NET exception, no stack trace in the message.
    param([Management.Automation.ErrorRecord] $Record, [string] $ErrorId, [string] $Category)
    $Record.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*" -Because $Record.Exception.Message
    $Record.CategoryInfo.Category | Should -Be $Category -Because $Record.Exception.Message
    $Record.Exception | Should -Not -BeOfType [Management.Automation.CmdletInvocationException]
    $type = $Record.Exception.GetType()
    ($type.FullName -eq 'JobQueue.Engine.JobQueueException' -or $type.IsSubclassOf([Management.Automation.RuntimeException])) |
        Should -BeTrue -Because "$($type.FullName) is not an error the module or PowerShell documents"
    $Record.Exception.Message | Should -Not -Match '(?m)^\s+at \S+\(' -Because 'a user mistake shows no stack trace'
}

function Assert-NoUnhandledError {
    param([Management.Automation.ErrorRecord[]] $Errors)
    $text = ($Errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) -join '; '
    $Errors.Count | Should -Be 0 -Because "the call should succeed, but got: $text"
}

function Assert-Exact {
    # Byte for byte: strings compared ordinally (PowerShell's -eq would call 'e' + U+0301 equal
    # to 'é', and ignore some controls), arrays element by element, numbers by value and text.
    param($Actual, $Expected, [string] $What = 'the value')
    if ($null -eq $Expected) {
        $null -eq $Actual | Should -BeTrue -Because "$What should be null, not '$Actual'"
    } elseif ($Expected -is [string]) {
        $Actual | Should -BeOfType [string] -Because $What
        if (-not [string]::Equals($Actual, $Expected, [StringComparison]::Ordinal)) {
            $i = 0; while ($i -lt [Math]::Min($Actual.Length, $Expected.Length) -and $Actual[$i] -eq $Expected[$i]) { $i++ }
            throw "$What differs: length $($Actual.Length) instead of $($Expected.Length), first difference at index $i."
        }
    } elseif ($Expected -is [Collections.IList]) {
        @($Actual).Count | Should -Be $Expected.Count -Because "$What has that many elements"
        for ($i = 0; $i -lt $Expected.Count; $i++) { Assert-Exact @($Actual)[$i] $Expected[$i] "$What[$i]" }
    } else {
        ($Actual -eq $Expected) | Should -BeTrue -Because "$What should be $Expected, not $Actual"
        [string]$Actual | Should -BeExactly ([string]$Expected) -Because $What
    }
}

function Get-FileFingerprint {
    # What a rejected -Database path looks like before and after: nothing may change it.
    param([string] $Path)
    if ([string]::IsNullOrEmpty($Path) -or $Path.Contains([char]0) -or ($Path -like '*:/*' -and $Path -notlike '/*')) { return 'not a file-system path' }
    if (Test-Path -LiteralPath $Path -PathType Container) {
        return 'folder: ' + ((Get-ChildItem -LiteralPath $Path -Force -Name) -join '|')
    }
    if (Test-Path -LiteralPath $Path -PathType Leaf) {
        $item = Get-Item -LiteralPath $Path -Force
        if ($item.UnixStat -and $item.UnixStat.ItemType -ne 'File') { return "$($item.UnixStat.ItemType)" }
        return 'file: ' + (Get-FileHash -LiteralPath $Path).Hash
    }
    # Nothing there (or a path below a file): nothing may appear.
    'missing: ' + (Test-Path -LiteralPath $Path)
}
