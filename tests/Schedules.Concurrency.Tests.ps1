# Several schedulers at once, and the scheduler daemon: exactly one job per occurrence across
# real processes; Start-JobScheduler wakes on changes and stops cleanly on Ctrl+C and SIGTERM.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Schedules.Helpers.ps1')
}

Describe 'Four scheduler processes over one simulated day on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $db = New-TestDatabase -Backend $_
        $work = Join-Path ([IO.Path]::GetTempPath()) ('jq-sched-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
        New-Item -ItemType Directory $work | Out-Null
        $day = [DateTimeOffset]'2026-06-01T00:00:00Z'   # a Monday
        # Each expression with the UTC minutes of the day on which it must make a job.
        $expected = [ordered]@{
            '* * * * *'    = 0..1439
            '*/5 * * * *'  = (0..287 | ForEach-Object { $_ * 5 })
            '0 * * * *'    = (0..23 | ForEach-Object { $_ * 60 })
            '0 */6 * * *'  = 0, 360, 720, 1080
            '0 2 * * *'    = @(120)
            '30 14 * * *'  = @(870)
            '0 0 * * 0'    = @()          # Sundays only: none on this Monday
            '0 0 1 * *'    = @(0)
        }
        $ids = @{}
        foreach ($cron in $expected.Keys) {
            $ids[$cron] = (New-JobSchedule -Database $db -Name ('race-' + $ids.Count) -Type evaluation -Cron $cron -StartAt $day).ScheduleId
        }
        $berlin = (New-JobSchedule -Database $db -Name race-berlin -Type evaluation -Cron '15 3 * * *' -TimeZone Europe/Berlin -StartAt $day).ScheduleId

        # Each process waits for the others to be ready, then runs a pass for every minute of the
        # day (1,440 passes in one pwsh) and writes the ids of the jobs it created and the passes
        # that found their occurrence already fired by another process.
        $go = Join-Path $work 'go'
        $processes = foreach ($i in 1..4) {
            $script = @"
`$db = '$db'; `$day = [DateTimeOffset]'$($day.ToString('o'))'
Initialize-JobQueue -Database `$db | Out-Null
New-Item -ItemType File '$(Join-Path $work "ready-$i")' | Out-Null
while (-not (Test-Path '$go')) { Start-Sleep -Milliseconds 10 }
`$created = [Collections.Generic.List[long]]::new(); `$lost = 0
foreach (`$m in 0..1439) {
    foreach (`$r in Invoke-JobScheduler -Database `$db -Now `$day.AddMinutes(`$m) -Verbose 4>&1) {
        if (`$r -is [System.Management.Automation.VerboseRecord]) { if (`$r.Message -like '*fired the occurrence*first*') { `$lost++ } }
        else { `$created.Add(`$r.JobId) }
    }
}
@{ Created = `$created; Lost = `$lost } | ConvertTo-Json -Compress | Set-Content '$(Join-Path $work "out-$i.json")'
"@
            Start-Pwsh -Script $script -OutputPath (Join-Path $work "log-$i.txt")
        }
        $deadline = (Get-Date).AddMinutes(3)
        while (@(Get-ChildItem $work -Filter 'ready-*').Count -lt 4 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 100 }
        New-Item -ItemType File $go | Out-Null
        foreach ($p in $processes) {
            if (-not $p.WaitForExit(600000)) { $p.Kill($true) }
        }
        $outputs = foreach ($i in 1..4) {
            $file = Join-Path $work "out-$i.json"
            if (Test-Path $file) { Get-Content $file -Raw | ConvertFrom-Json } else { $null }
        }
        $jobs = @(Get-TrainingJob -Database $db)
    }

    It 'all four processes ran their 1,440 passes without an error' {
        foreach ($i in 1..4) {
            $processes[$i - 1].ExitCode | Should -Be 0 -Because (Get-Content (Join-Path $work "log-$i.txt") -Raw)
            $outputs[$i - 1] | Should -Not -BeNullOrEmpty
        }
    }

    It 'made exactly one job for every due occurrence of every schedule, and nothing else' {
        foreach ($cron in $expected.Keys) {
            $want = @($expected[$cron] | ForEach-Object { $day.AddMinutes($_).UtcDateTime.ToString('yyyy-MM-ddTHH:mm') + 'Z' })
            $got = @(Get-ScheduleJobTimes -Database $db -ScheduleId $ids[$cron])
            $got.Count | Should -Be $want.Count -Because "'$cron' is due $($want.Count) times that day"
            $got | Should -Be $want -Because "'$cron' makes one job per occurrence"
        }
        # 03:15 in Berlin (summer time) is 01:15 UTC.
        @(Get-ScheduleJobTimes -Database $db -ScheduleId $berlin) | Should -Be @('2026-06-01T01:15Z')
        $jobs.Count | Should -Be 1760
    }

    It 'reported each job as created by exactly one process' {
        $emitted = @($outputs | ForEach-Object { $_.Created })
        $emitted.Count | Should -Be $jobs.Count
        ($emitted | Sort-Object -Unique).Count | Should -Be $jobs.Count
        ($emitted | Sort-Object) | Should -Be ($jobs.JobId | Sort-Object)
        $perProcess = ($outputs | ForEach-Object { "$(@($_.Created).Count) created, $($_.Lost) lost races" }) -join '; '
        Write-Host "    four schedulers over 1,440 minutes: $($jobs.Count) jobs; per process: $perProcess"
        Set-Content (Join-Path $work 'summary.txt') $perProcess
    }
}

Describe 'Start-JobScheduler on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        $psd1 = Join-Path (Split-Path $PSScriptRoot -Parent) 'JobQueue.psd1'
        function Wait-Until([scriptblock] $Condition, [int] $Seconds = 90) {
            $deadline = (Get-Date).AddSeconds($Seconds)
            while (-not (& $Condition)) {
                if ((Get-Date) -gt $deadline) { return $false }
                Start-Sleep -Milliseconds 100
            }
            $true
        }
    }

    It 'wakes up when a schedule is created while it sleeps, emits the job, and stops on Ctrl+C' {
        $db = New-TestDatabase -Backend $backend
        Initialize-JobQueue -Database $db | Out-Null
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$psd1'; Start-JobScheduler -Database '$db' -MaxInterval '00:10:00' -Verbose")
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $null = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $output)
        try {
            # Asleep: its first pass is done and its next one is ten minutes away.
            Wait-Until { $ps.Streams.Verbose.Message -like 'Next pass by*' } | Should -BeTrue
            # A schedule whose first run is already due (one catch-up run, RunOnce).
            $s = New-JobSchedule -Database $db -Name wake-me -Type evaluation -Cron '* * * * *' -StartAt (Get-Date).AddHours(-1)
            # The scheduler emits the job after committing it; wait for the emitted job.
            Wait-Until { $output.Count -gt 0 } | Should -BeTrue -Because 'the change wakes the scheduler long before -MaxInterval'
        } finally {
            # What Ctrl+C does: stop the pipeline.
            $ps.Stop()
        }
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $job = Get-TrainingJob -Database $db -ScheduleId $s.ScheduleId
        @($job).Count | Should -Be 1
        @($output).JobId | Should -Be @($job.JobId) -Because 'the scheduler emits each job it creates'
        $ps.Dispose()
    }

    It 'stops after -Duration' {
        $db = New-TestDatabase -Backend $backend
        $out = Start-JobScheduler -Database $db -Duration '00:00:01' -Verbose 4>&1
        ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Contain ($out[-1].Message)
        $out[-1].Message | Should -BeLike 'Scheduler stopped after * pass(es); 0 job(s) created.'
    }

    It 'exits cleanly (code 0) on SIGTERM when run as pwsh -c Start-JobScheduler' -Skip:$IsWindows {
        $db = New-TestDatabase -Backend $backend
        $log = Join-Path ([IO.Path]::GetTempPath()) ('jq-scheduler-' + [guid]::NewGuid().ToString('N').Substring(0, 8) + '.log')
        $p = Start-Pwsh -Script "Start-JobScheduler -Database '$db' -Verbose" -OutputPath $log
        Wait-Until { (Test-Path $log) -and (Get-Content $log -Raw) -match 'Next pass by' } | Should -BeTrue
        & kill -TERM $p.Id
        $p.WaitForExit(60000) | Should -BeTrue
        $p.ExitCode | Should -Be 0
        Get-Content $log -Raw | Should -Match 'Scheduler stopped by SIGTERM after \d+ pass\(es\)'
        # Nothing is left locked: the queue takes a new schedule at once.
        New-JobSchedule -Database $db -Name after-stop -Type evaluation -Cron '@daily' | Should -Not -BeNullOrEmpty
        Remove-Item $log -ErrorAction Ignore
    }
}
