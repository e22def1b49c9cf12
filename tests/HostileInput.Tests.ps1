# Every parameter of every cmdlet fed with nasty values (the table is HostileInput.Cases.ps1 and
# HostileInput.Schedules.Cases.ps1):
# each is stored and returned byte for byte, or rejected with its documented error and the queue
# left unchanged; never an unhandled exception.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'HostileInput.Cases.ps1')
    $CaseGroups = @(Get-HostileCaseGroups)
    $DatabasePathCases = @(Get-DatabasePathCases)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'HostileInput.Helpers.ps1')
    . (Join-Path $PSScriptRoot 'HostileInput.Cases.ps1')
    $HostileCounts = [ordered]@{}
    function Measure-HostileInput([string] $Backend, [string] $Cmdlet) {
        $key = "$Cmdlet ($Backend)"
        $HostileCounts[$key] = 1 + [int]$HostileCounts[$key]
    }
}

AfterAll {
    Write-Host ''
    Write-Host 'Hostile inputs tried per cmdlet:'
    foreach ($entry in $HostileCounts.GetEnumerator()) { Write-Host ('  {0,-40} {1,5}' -f $entry.Key, $entry.Value) }
    Write-Host ('  {0,-40} {1,5}' -f 'total', ($HostileCounts.Values | Measure-Object -Sum).Sum)
}

Describe 'Hostile input to the cmdlets (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $Backend = $_
        $Folder = Join-Path ([IO.Path]::GetTempPath()) ('jq-hostile-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
        New-Item -ItemType Directory -Force $Folder | Out-Null
        $Values = New-HostileValues -Folder $Folder
        # Rejected and accepted cases run against a small seeded queue that must never change;
        # stored cases get a queue of their own, which grows.
        $SeededDb = New-TestDatabase -Backend $Backend
        $Seed = New-HostileSeed -Database $SeededDb
        $StoreDb = New-TestDatabase -Backend $Backend
        # The seeded queue as it must stay; each case compares against the state the previous left.
        $State = @{ Snapshot = Get-QueueSnapshot -Database $SeededDb -Backend $Backend }
        # What the sqlite3 shell must read back, checked in one run of the shell after the cases.
        $CliChecks = [Collections.Generic.List[object]]::new()
    }
    AfterAll { Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore }

    Context '<Cmdlet>' -ForEach $CaseGroups {
        It '-<Parameter> <Value>: <Expect> <ErrorId>' -ForEach $Rows {
            Measure-HostileInput $Backend $Cmdlet
            $target = $HostileTargets["$Cmdlet -$Parameter"]
            if ($Expect -eq 'Stored') {
                $ctx = if ($target.Setup) { & $target.Setup $StoreDb } else { @{} }
                # (PowerShell variables ignore case: $Value is the row's value name, $hostile the value.)
                $hostile = Get-HostileValue $Value $Values $ctx
                $result = Invoke-HostileCall $target.Call @($StoreDb, $hostile, $ctx)
                Assert-NoUnhandledError $result.Errors
                $expected = if ($target.Expect) { & $target.Expect $hostile } else { $hostile }
                $back = & $target.ReadBack $StoreDb @($result.Output)[0] $ctx
                Assert-Exact $back $expected 'the value read back by the cmdlets'
                if ($Backend -eq 'SQLite' -and $target.Sql) {
                    # The shell prints numbers as text; a decoded config keeps their type.
                    $CliChecks.Add([pscustomobject]@{
                            Case     = "$Cmdlet -$Parameter $Value"
                            Sql      = & $target.Sql @($result.Output)[0] $ctx
                            Decode   = $target.SqlDecode
                            Expected = if ($target.SqlDecode -or $null -eq $expected -or $expected -is [string] -or $expected -is [Collections.IList]) { $expected } else { [string]$expected }
                        })
                }
                return
            }
            $hostile = Get-HostileValue $Value $Values $Seed
            $before = $State.Snapshot
            $result = Invoke-HostileCall $target.Call @($SeededDb, $hostile, $Seed)
            if ($Expect -eq 'Rejected') {
                $result.Errors.Count | Should -BeGreaterThan 0 -Because 'the value must be refused'
                foreach ($record in $result.Errors) { Assert-DocumentedError $record $ErrorId $Category }
            } else {
                Assert-NoUnhandledError $result.Errors
                if ($target.Assert) { & $target.Assert $result.Output $Value $Seed }
            }
            $State.Snapshot = Get-QueueSnapshot -Database $SeededDb -Backend $Backend
            $State.Snapshot | Should -BeExactly $before -Because 'a refused or read-only call changes nothing'
        }
    }

    if ($_ -eq 'SQLite') {
        Context 'The stored values, read by the sqlite3 shell' {
            It 'reads every stored value byte for byte' {
                $CliChecks.Count | Should -BeGreaterThan 100
                $texts = Read-Sqlite3Texts $StoreDb @($CliChecks | ForEach-Object Sql)
                for ($i = 0; $i -lt $CliChecks.Count; $i++) {
                    $check = $CliChecks[$i]
                    $fromCli = if ($check.Decode) { & $check.Decode $texts[$i] } else { $texts[$i] }
                    Assert-Exact $fromCli $check.Expected "the value of '$($check.Case)' read by the sqlite3 shell"
                }
            }
        }
    }
}

Describe 'Hostile -Database paths (SQLite)' {
    BeforeAll {
        $Folder = Join-Path ([IO.Path]::GetTempPath()) ('jq-hostile-paths-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
        New-Item -ItemType Directory -Force $Folder | Out-Null
        $Values = New-HostileValues -Folder $Folder
    }
    AfterAll { Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore }

    It '<Cmdlet> -Database <Value>: <ErrorId>, and the path is left as it was' -ForEach $DatabasePathCases {
        Measure-HostileInput 'paths' $Cmdlet
        $path = Get-HostileValue $Value $Values @{}
        $before = Get-FileFingerprint $path
        $result = Invoke-HostileCall $DatabaseCalls[$Cmdlet] @(, $path)
        $result.Errors.Count | Should -BeGreaterThan 0
        foreach ($record in $result.Errors) { Assert-DocumentedError $record $ErrorId $Category }
        Get-FileFingerprint $path | Should -BeExactly $before
    }
}

Describe 'Hostile times outside UTC (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $Backend = $_
    }

    It 'keeps -NotBefore at the ends of the calendar in a time zone <_> of UTC' -ForEach 'Asia/Tokyo', 'America/New_York' {
        Measure-HostileInput 'time zones' 'Submit-TrainingJob'
        $db = New-TestDatabase -Backend $Backend
        $script = "foreach (`$t in [datetime]::MinValue, [datetime]::MaxValue) { " +
        "`$j = Submit-TrainingJob -Database '$db' -Type training -NotBefore `$t; " +
        "(Get-TrainingJob -Database '$db' -Id `$j.JobId).NotBefore.ToUniversalTime().ToString('o') }"
        $r = Invoke-Pwsh $script -Environment @{ TZ = $_ }
        $r.ExitCode | Should -Be 0 -Because $r.Error
        # Stored in UTC, clamped to the calendar, with millisecond precision.
        $utc = @($r.Output -split "`n" | Where-Object { $_.Trim() } | ForEach-Object { $_.Trim() })
        $utc.Count | Should -Be 2
        [datetime]::Parse($utc[0], [cultureinfo]::InvariantCulture, 'RoundtripKind').Year | Should -Be 1
        [datetime]::Parse($utc[1], [cultureinfo]::InvariantCulture, 'RoundtripKind').Year | Should -Be 9999
        $stored = if ($Backend -eq 'SQLite') { Invoke-Sqlite3 $db 'SELECT not_before FROM jobs ORDER BY job_id;' }
        else { Invoke-TestPsql "SELECT to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD`"T`"HH24:MI:SS.MS') FROM jobs ORDER BY job_id" -Database $db }
        $stored -join ',' | Should -Match '^0001-01-01T.*,9999-12-31T'
    }
}
