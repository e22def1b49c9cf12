# When schedules fire: the guide's cron expressions, macros, daylight saving time, misfires
# after downtime and overlapping runs. Passes use Invoke-JobScheduler -Now, stepped as cron would.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Schedules.Helpers.ps1')
}

Describe 'Cron expressions and next runs on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        # The guide's date: Thursday 2025-11-20, 14:31 UTC.
        $now = [DateTimeOffset]'2025-11-20T14:31:00Z'
    }

    It 'computes the next run of the guide''s six expressions "<Cron>" from a fixed time' -ForEach @(
        @{ Cron = '0 2 * * *'; Next = '2025-11-21T02:00Z'; After = '2025-11-22T02:00Z' }
        @{ Cron = '0 */6 * * *'; Next = '2025-11-20T18:00Z'; After = '2025-11-21T00:00Z' }
        @{ Cron = '30 14 * * *'; Next = '2025-11-21T14:30Z'; After = '2025-11-22T14:30Z' }
        @{ Cron = '0 * * * *'; Next = '2025-11-20T15:00Z'; After = '2025-11-20T16:00Z' }
        @{ Cron = '0 0 * * 0'; Next = '2025-11-23T00:00Z'; After = '2025-11-30T00:00Z' }
        @{ Cron = '0 0 1 * *'; Next = '2025-12-01T00:00Z'; After = '2026-01-01T00:00Z' }
    ) {
        $db = New-TestDatabase -Backend $backend
        $name = 'guide-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $s = New-JobSchedule -Database $db -Name $name -Type evaluation -Cron $Cron -StartAt $now
        $s.NextRun | ConvertTo-UtcText | Should -Be $Next

        # A pass at the next run creates its job and moves on to the occurrence after it.
        $job = Invoke-JobScheduler -Database $db -Now ([DateTimeOffset]$Next.Replace('Z', ':00Z'))
        @($job | Where-Object ScheduleId -EQ $s.ScheduleId).Count | Should -Be 1
        (Get-JobSchedule -Database $db -Name $name).NextRun | ConvertTo-UtcText | Should -Be $After
    }

    It 'accepts the macro <Cron> as the equivalent five fields' -ForEach @(
        @{ Cron = '@hourly'; Next = '2025-11-20T15:00Z' }
        @{ Cron = '@daily'; Next = '2025-11-21T00:00Z' }
        @{ Cron = '@midnight'; Next = '2025-11-21T00:00Z' }
        @{ Cron = '@weekly'; Next = '2025-11-23T00:00Z' }
        @{ Cron = '@monthly'; Next = '2025-12-01T00:00Z' }
        @{ Cron = '@yearly'; Next = '2026-01-01T00:00Z' }
        @{ Cron = '@annually'; Next = '2026-01-01T00:00Z' }
    ) {
        $db = New-TestDatabase -Backend $backend
        $s = New-JobSchedule -Database $db -Name ('macro-' + $Cron.Trim('@')) -Type evaluation -Cron $Cron -StartAt $now
        $s.Expression | Should -Be $Cron
        $s.NextRun | ConvertTo-UtcText | Should -Be $Next
    }

    It 'reads the expression in the schedule''s time zone and stores next runs in UTC' {
        $db = New-TestDatabase -Backend $backend
        $s = New-JobSchedule -Database $db -Name berlin-2am -Type training -Cron '0 2 * * *' -TimeZone 'Europe/Berlin' -StartAt $now
        # 02:00 in Berlin in November (CET, UTC+1) is 01:00 UTC.
        $s.NextRun | ConvertTo-UtcText | Should -Be '2025-11-21T01:00Z'
        $s.TimeZone | Should -Be 'Europe/Berlin'
    }

    It 'starts at -StartAt itself when it is an occurrence' {
        $db = New-TestDatabase -Backend $backend
        $s = New-JobSchedule -Database $db -Name start-inclusive -Type training -Cron '30 14 * * *' -StartAt ([DateTimeOffset]'2025-11-20T14:30:00Z')
        $s.NextRun | ConvertTo-UtcText | Should -Be '2025-11-20T14:30Z'
    }
}

Describe 'Daylight saving time on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        function Invoke-DstDay {
            # Creates the schedules in a fresh queue, runs a pass for every minute of the zone's
            # local day (23 or 25 hours of real time), and returns each schedule's job times.
            param([string] $Zone, [string] $LocalDate, [string[]] $Cron)
            $db = New-TestDatabase -Backend $backend
            $tz = [TimeZoneInfo]::FindSystemTimeZoneById($Zone)
            $dayStart = [datetime]::ParseExact($LocalDate, 'yyyy-MM-dd', [cultureinfo]::InvariantCulture)
            $from = [DateTimeOffset]::new([TimeZoneInfo]::ConvertTimeToUtc($dayStart, $tz), [TimeSpan]::Zero)
            $to = [DateTimeOffset]::new([TimeZoneInfo]::ConvertTimeToUtc($dayStart.AddDays(1), $tz), [TimeSpan]::Zero)
            $ids = @{}
            foreach ($c in $Cron) {
                $ids[$c] = (New-JobSchedule -Database $db -Name ('dst-' + [guid]::NewGuid().ToString('N').Substring(0, 8)) -Type evaluation -Cron $c -TimeZone $Zone -StartAt $from).ScheduleId
            }
            $created = @(Invoke-SchedulerMinutes -Database $db -From $from -To $to)
            $result = @{ Minutes = [int]($to - $from).TotalMinutes; Created = $created.Count }
            foreach ($c in $Cron) { $result[$c] = @(Get-ScheduleJobTimes -Database $db -ScheduleId $ids[$c]) }
            $result
        }
    }

    It 'Europe/Berlin, spring forward (2026-03-29, 02:00 CET -> 03:00 CEST): a run in the skipped hour happens once, at the jump' {
        $r = Invoke-DstDay -Zone 'Europe/Berlin' -LocalDate '2026-03-29' -Cron '30 2 * * *', '0 2 * * *', '0 3 * * *', '0 * * * *', '*/30 * * * *'
        $r.Minutes | Should -Be (23 * 60)
        # 02:30 and 02:00 do not exist that night: each runs once, at 03:00 CEST (01:00 UTC).
        $r['30 2 * * *'] | Should -Be @('2026-03-29T01:00Z')
        $r['0 2 * * *'] | Should -Be @('2026-03-29T01:00Z')
        $r['0 3 * * *'] | Should -Be @('2026-03-29T01:00Z')
        # Interval expressions keep their rhythm in real time: 23 hours, 23 hourly runs.
        $r['0 * * * *'].Count | Should -Be 23
        $r['*/30 * * * *'].Count | Should -Be 46
        @($r['0 * * * *'] | Select-Object -Unique).Count | Should -Be 23
    }

    It 'Europe/Berlin, fall back (2026-10-25, 03:00 CEST -> 02:00 CET): a run in the repeated hour happens once' {
        $r = Invoke-DstDay -Zone 'Europe/Berlin' -LocalDate '2026-10-25' -Cron '30 2 * * *', '0 2 * * *', '0 * * * *', '*/30 * * * *'
        $r.Minutes | Should -Be (25 * 60)
        # 02:30 happens twice on the clock (CEST, then CET); the job runs at the first, 00:30 UTC.
        $r['30 2 * * *'] | Should -Be @('2026-10-25T00:30Z')
        $r['0 2 * * *'] | Should -Be @('2026-10-25T00:00Z')
        $r['0 * * * *'].Count | Should -Be 25
        $r['*/30 * * * *'].Count | Should -Be 50
    }

    It 'America/New_York, spring forward (2026-03-08, 02:00 EST -> 03:00 EDT)' {
        $r = Invoke-DstDay -Zone 'America/New_York' -LocalDate '2026-03-08' -Cron '30 2 * * *', '0 * * * *'
        $r.Minutes | Should -Be (23 * 60)
        $r['30 2 * * *'] | Should -Be @('2026-03-08T07:00Z')
        $r['0 * * * *'].Count | Should -Be 23
    }

    It 'America/New_York, fall back (2026-11-01, 02:00 EDT -> 01:00 EST)' {
        $r = Invoke-DstDay -Zone 'America/New_York' -LocalDate '2026-11-01' -Cron '30 1 * * *', '0 * * * *'
        $r.Minutes | Should -Be (25 * 60)
        $r['30 1 * * *'] | Should -Be @('2026-11-01T05:30Z')
        $r['0 * * * *'].Count | Should -Be 25
    }
}

Describe 'Misfires after a week of downtime on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        # Monday 2026-03-02 00:00 UTC; the scheduler then stays down until Monday 2026-03-09 12:00.
        $start = [DateTimeOffset]'2026-03-02T00:00:00Z'
        $back = [DateTimeOffset]'2026-03-09T12:00:00Z'
        function New-DowntimeSchedule([string] $Policy, [string] $Cron = '0 2 * * *', [string] $Overlap = 'Allow') {
            $db = New-TestDatabase -Backend $backend
            $s = New-JobSchedule -Database $db -Name "down-$Policy" -Type retraining -Cron $Cron -MisfirePolicy $Policy -OverlapPolicy $Overlap -StartAt $start
            # The last pass before the downtime.
            Invoke-JobScheduler -Database $db -Now $start | Out-Null
            @{ Db = $db; Schedule = $s }
        }
    }

    It 'RunOnce (default) makes one catch-up job for the most recent missed run, warns, then waits for the next one' {
        $t = New-DowntimeSchedule RunOnce
        $jobs = @(Invoke-JobScheduler -Database $t.Db -Now $back -WarningVariable warnings -WarningAction SilentlyContinue)
        $jobs.Count | Should -Be 1
        $jobs[0].ScheduledFor | ConvertTo-UtcText | Should -Be '2026-03-09T02:00Z'
        $warnings | Should -HaveCount 1
        "$warnings" | Should -BeLike '*missed 8 runs*RunOnce*catch-up*'
        (Get-JobSchedule -Database $t.Db -Id $t.Schedule.ScheduleId).NextRun | ConvertTo-UtcText | Should -Be '2026-03-10T02:00Z'
        Invoke-JobScheduler -Database $t.Db -Now $back.AddMinutes(1) | Should -BeNullOrEmpty
    }

    It 'Skip makes no job for missed runs and resumes with the next occurrence' {
        $t = New-DowntimeSchedule Skip
        Invoke-JobScheduler -Database $t.Db -Now $back -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        (Get-TrainingJob -Database $t.Db).Count | Should -Be 0
        (Get-JobSchedule -Database $t.Db -Id $t.Schedule.ScheduleId).NextRun | ConvertTo-UtcText | Should -Be '2026-03-10T02:00Z'
        # The next occurrence is on time again and runs.
        (Invoke-JobScheduler -Database $t.Db -Now ([DateTimeOffset]'2026-03-10T02:00:00Z')).ScheduledFor | ConvertTo-UtcText | Should -Be '2026-03-10T02:00Z'
    }

    It 'Skip and RunOnce still run an occurrence that is on time when the scheduler comes back' {
        foreach ($policy in 'Skip', 'RunOnce') {
            $t = New-DowntimeSchedule $policy
            $jobs = @(Invoke-JobScheduler -Database $t.Db -Now ([DateTimeOffset]'2026-03-09T02:00:20Z') -WarningAction SilentlyContinue)
            $jobs.ScheduledFor | ConvertTo-UtcText | Should -Be '2026-03-09T02:00Z' -Because $policy
        }
    }

    It 'RunAll makes one job per missed run' {
        $t = New-DowntimeSchedule RunAll
        $jobs = @(Invoke-JobScheduler -Database $t.Db -Now $back -WarningAction SilentlyContinue)
        $jobs.Count | Should -Be 8
        ($jobs.ScheduledFor | ConvertTo-UtcText) | Should -Be @(2..9 | ForEach-Object { '2026-03-{0:00}T02:00Z' -f $_ })
        Invoke-JobScheduler -Database $t.Db -Now $back | Should -BeNullOrEmpty
    }

    It 'RunAll stops at 100 jobs, the most recent missed runs' {
        $t = New-DowntimeSchedule RunAll -Cron '0 * * * *'
        $jobs = @(Invoke-JobScheduler -Database $t.Db -Now $back -WarningVariable warnings -WarningAction SilentlyContinue)
        # 180 hourly runs fell due (2026-03-02 01:00 .. 2026-03-09 12:00); the newest 100 run.
        $jobs.Count | Should -Be 100
        $times = $jobs.ScheduledFor | ConvertTo-UtcText
        $times[-1] | Should -Be '2026-03-09T12:00Z'
        $times[0] | Should -Be '2026-03-05T09:00Z'
        "$warnings" | Should -BeLike '*most recent 100*80 older were skipped*'
    }

    It 'enabling a schedule after downtime starts from now: no flood of old runs' {
        $t = New-DowntimeSchedule RunAll
        Disable-JobSchedule -Database $t.Db -Name down-RunAll
        Invoke-JobScheduler -Database $t.Db -Now $back | Should -BeNullOrEmpty
        $enabled = Enable-JobSchedule -Database $t.Db -Name down-RunAll -StartAt $back -PassThru
        $enabled.NextRun | ConvertTo-UtcText | Should -Be '2026-03-10T02:00Z'
        Invoke-JobScheduler -Database $t.Db -Now $back.AddMinutes(1) | Should -BeNullOrEmpty
        (Get-TrainingJob -Database $t.Db).Count | Should -Be 0
    }
}

Describe 'Overlapping runs on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        $t0 = [DateTimeOffset]'2026-04-01T00:00:00Z'
        function New-OverlapQueue([string] $Overlap, [string] $Misfire = 'RunOnce') {
            $db = New-TestDatabase -Backend $backend
            $s = New-JobSchedule -Database $db -Name "overlap-$Overlap" -Type training -Cron '0 * * * *' -OverlapPolicy $Overlap -MisfirePolicy $Misfire -StartAt $t0
            $first = Invoke-JobScheduler -Database $db -Now $t0
            $first | Should -HaveCount 1
            @{ Db = $db; Schedule = $s; First = $first }
        }
    }

    It 'Allow creates the next job while the previous one is still pending' {
        $q = New-OverlapQueue Allow
        (Invoke-JobScheduler -Database $q.Db -Now $t0.AddHours(1)) | Should -HaveCount 1
        (Get-TrainingJob -Database $q.Db -Status Pending).Count | Should -Be 2
    }

    It 'Skip drops an occurrence while the previous run is pending or running, and runs again once it ended' {
        $q = New-OverlapQueue Skip
        Invoke-JobScheduler -Database $q.Db -Now $t0.AddHours(1) | Should -BeNullOrEmpty
        $running = Receive-TrainingJob -Database $q.Db -WorkerId w1
        Invoke-JobScheduler -Database $q.Db -Now $t0.AddHours(2) | Should -BeNullOrEmpty
        (Get-JobSchedule -Database $q.Db -Name overlap-Skip).NextRun | ConvertTo-UtcText | Should -Be '2026-04-01T03:00Z'
        Complete-TrainingJob -Database $q.Db -Id $running.JobId
        (Invoke-JobScheduler -Database $q.Db -Now $t0.AddHours(3)).ScheduledFor | ConvertTo-UtcText | Should -Be '2026-04-01T03:00Z'
        (Get-TrainingJob -Database $q.Db).Count | Should -Be 2
    }

    It 'Queue holds the occurrence until the previous run ends, then runs it once' {
        $q = New-OverlapQueue Queue
        $running = Receive-TrainingJob -Database $q.Db -WorkerId w1
        Invoke-JobScheduler -Database $q.Db -Now $t0.AddHours(1) | Should -BeNullOrEmpty
        Invoke-JobScheduler -Database $q.Db -Now $t0.AddHours(1.5) | Should -BeNullOrEmpty
        # Held: the next run stays at the waiting occurrence.
        (Get-JobSchedule -Database $q.Db -Name overlap-Queue).NextRun | ConvertTo-UtcText | Should -Be '2026-04-01T01:00Z'
        Complete-TrainingJob -Database $q.Db -Id $running.JobId
        $late = Invoke-JobScheduler -Database $q.Db -Now $t0.AddHours(1.75) -WarningVariable warnings
        $late | Should -HaveCount 1
        $late.ScheduledFor | ConvertTo-UtcText | Should -Be '2026-04-01T01:00Z'
        $warnings | Should -BeNullOrEmpty -Because 'a run that waited for its predecessor is not a misfire'
        (Get-JobSchedule -Database $q.Db -Name overlap-Queue).NextRun | ConvertTo-UtcText | Should -Be '2026-04-01T02:00Z'
    }

    It 'Queue folds the occurrences that fell due while waiting into one job for the latest, even with MisfirePolicy Skip' {
        $q = New-OverlapQueue Queue -Misfire Skip
        $running = Receive-TrainingJob -Database $q.Db -WorkerId w1
        foreach ($h in 1..3) { Invoke-JobScheduler -Database $q.Db -Now $t0.AddHours($h) | Should -BeNullOrEmpty }
        Complete-TrainingJob -Database $q.Db -Id $running.JobId
        $jobs = @(Invoke-JobScheduler -Database $q.Db -Now $t0.AddHours(3.5))
        $jobs.ScheduledFor | ConvertTo-UtcText | Should -Be '2026-04-01T03:00Z'
        (Get-TrainingJob -Database $q.Db).Count | Should -Be 2
    }

    It 'Skip and Queue schedules get at most one job per pass, even with MisfirePolicy RunAll' {
        foreach ($overlap in 'Skip', 'Queue') {
            $q = New-OverlapQueue $overlap -Misfire RunAll
            Complete-TrainingJob -Database $q.Db -Id (Receive-TrainingJob -Database $q.Db -WorkerId w1).JobId
            $jobs = @(Invoke-JobScheduler -Database $q.Db -Now $t0.AddHours(5) -WarningAction SilentlyContinue)
            $jobs | Should -HaveCount 1 -Because $overlap
        }
    }
}
