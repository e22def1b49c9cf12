# The schedule cmdlets as a user drives them: create, list, change, enable, disable, remove,
# fire; pipelines, errors that change nothing, views and tab completion.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Schedules.Helpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

AfterAll {
    Remove-TestFolders
}

Describe 'The schedule cmdlets' {
    It 'are exported, each declaring what it outputs' {
        $expected = @{
            'New-JobSchedule' = 'JobSchedule'; 'Get-JobSchedule' = 'JobSchedule'; 'Set-JobSchedule' = 'JobSchedule'
            'Enable-JobSchedule' = 'JobSchedule'; 'Disable-JobSchedule' = 'JobSchedule'; 'Remove-JobSchedule' = 'Void'
            'Invoke-JobScheduler' = 'TrainingJob'; 'Start-JobScheduler' = 'TrainingJob'
        }
        foreach ($name in $expected.Keys) {
            $command = Get-Command $name -Module JobQueue
            $command.OutputType.Type.Name | Should -Contain $expected[$name] -Because $name
        }
    }

    It 'ask before changing anything, and Remove-JobSchedule asks by default' {
        foreach ($name in 'New-JobSchedule', 'Set-JobSchedule', 'Enable-JobSchedule', 'Disable-JobSchedule', 'Remove-JobSchedule', 'Invoke-JobScheduler', 'Start-JobScheduler') {
            (Get-Command $name).Parameters.Keys | Should -Contain 'WhatIf' -Because $name
        }
        $attribute = (Get-Command Remove-JobSchedule).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attribute.ConfirmImpact | Should -Be 'High'
    }
}

Describe 'Creating and reading schedules on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $db = New-TestDatabase -Backend $_
    }

    It 'creates a schedule with the guide''s defaults and a next run in the future' {
        $before = Get-Date
        $s = New-JobSchedule -Database $db -Name daily-retrain -Type training -Cron '0 2 * * *' -Config @{ lr = 0.001; epochs = 10; layers = @(64, 32) }
        $s.ScheduleId | Should -BeGreaterThan 0
        $s.Id | Should -Be $s.ScheduleId
        $s.Name | Should -Be 'daily-retrain'
        $s.JobType | Should -Be 'training'
        $s.Expression | Should -Be '0 2 * * *'
        $s.TimeZone | Should -Be 'UTC'
        $s.Priority | Should -Be 5
        $s.MaxRetries | Should -Be 3
        $s.Enabled | Should -BeTrue
        $s.MisfirePolicy | Should -Be 'RunOnce'
        $s.OverlapPolicy | Should -Be 'Allow'
        $s.NextRun | Should -BeGreaterThan $before
        $s.NextRun.ToUniversalTime().TimeOfDay | Should -Be ([TimeSpan]'02:00:00')
        $s.LastRun | Should -BeNullOrEmpty
        $s.Config.lr | Should -Be 0.001
        $s.Config.layers | Should -Be @(64, 32)
        $s.Database | Should -Be $db
    }

    It 'reads the config from -ConfigPath and keeps command, timeout, GPUs and policies' {
        $file = Join-Path (New-TestFolder) 'nightly.json'
        '{"dataset": "imagenet", "batch_size": 256}' | Set-Content $file
        $s = New-JobSchedule -Database $db -Name nightly-file -Type retraining -Cron '15 3 * * *' -ConfigPath $file -Priority 8 -MaxRetries 1 `
            -Command 'python', 'train.py', '--nightly' -Timeout '02:00:00' -GpuCount 2 -MisfirePolicy Skip -OverlapPolicy Queue
        $s.Config.dataset | Should -Be 'imagenet'
        $s.Config.batch_size | Should -Be 256
        $s.Priority | Should -Be 8
        $s.MaxRetries | Should -Be 1
        $s.Command | Should -Be @('python', 'train.py', '--nightly')
        $s.Timeout | Should -Be ([TimeSpan]'02:00:00')
        $s.GpuCount | Should -Be 2
        $s.MisfirePolicy | Should -Be 'Skip'
        $s.OverlapPolicy | Should -Be 'Queue'
        (Get-JobSchedule -Database $db -Name nightly-file).Command | Should -Be @('python', 'train.py', '--nightly')
    }

    It 'creates a disabled schedule with no next run' {
        $s = New-JobSchedule -Database $db -Name paused -Type export -Cron '@weekly' -Disabled
        $s.Enabled | Should -BeFalse
        $s.NextRun | Should -BeNullOrEmpty
    }

    It 'accepts IANA and Windows zone ids in any case, and what Get-TimeZone returns' {
        (New-JobSchedule -Database $db -Name tz-windows -Type evaluation -Cron '@daily' -TimeZone 'Eastern Standard Time').TimeZone | Should -Be 'America/New_York'
        (New-JobSchedule -Database $db -Name tz-lower -Type evaluation -Cron '@daily' -TimeZone 'europe/berlin').TimeZone | Should -Be 'Europe/Berlin'
        $zone = [TimeZoneInfo]::FindSystemTimeZoneById('Asia/Tokyo')
        (New-JobSchedule -Database $db -Name tz-object -Type evaluation -Cron '@daily' -TimeZone $zone).TimeZone | Should -Be 'Asia/Tokyo'
    }

    It 'copies schedules piped from another queue' {
        $other = New-TestDatabase
        Get-JobSchedule -Database $db -Name nightly-file | New-JobSchedule -Database $other | Out-Null
        $copy = Get-JobSchedule -Database $other -Name nightly-file
        $copy.Database | Should -Be $other
        $copy.Expression | Should -Be '15 3 * * *'
        $copy.Config.dataset | Should -Be 'imagenet'
        $copy.Command | Should -Be @('python', 'train.py', '--nightly')
        $copy.OverlapPolicy | Should -Be 'Queue'
    }

    It 'lists every schedule ordered by id, or by name with wildcards, by id, or only the enabled ones' {
        $all = Get-JobSchedule -Database $db
        $all.Name | Should -Be @('daily-retrain', 'nightly-file', 'paused', 'tz-windows', 'tz-lower', 'tz-object')
        (Get-JobSchedule -Database $db tz-*).Name | Should -Be @('tz-windows', 'tz-lower', 'tz-object')
        (Get-JobSchedule -Database $db -Name 'DAILY-RETRAIN').Name | Should -Be 'daily-retrain'
        (Get-JobSchedule -Database $db -Id $all[1].ScheduleId).Name | Should -Be 'nightly-file'
        (Get-JobSchedule -Database $db -Enabled).Name | Should -Not -Contain 'paused'
        Get-JobSchedule -Database $db -Name 'nothing-*' | Should -BeNullOrEmpty
    }

    It 'shows the guide''s schedule list as a table and every setting as a list' {
        $table = Get-JobSchedule -Database $db -Name daily-retrain, paused | Format-Table | Out-String -Width 120
        $table | Should -Match 'ID\s+Name\s+Type\s+Expression\s+Enabled\s+Next Run'
        $table | Should -Match "daily-retrain\s+training\s+0 2 \* \* \*\s+$([char]0x2713)\s+\d{4}-\d\d-\d\dT02:00:00"
        $table | Should -Match 'paused\s+export\s+@weekly\s+-'
        $list = Get-JobSchedule -Database $db -Name nightly-file | Format-List | Out-String -Width 120
        foreach ($label in 'Schedule ID', 'Expression', 'Time zone', 'Next run', 'Misfire policy', 'Overlap policy', 'Configuration') {
            $list | Should -Match $label
        }
        $list | Should -Match 'Next run\s+: \d{4}-\d\d-\d\d 03:15:00'
    }

    It 'completes schedule names from the database and time zones from the system' {
        $line = "Enable-JobSchedule -Database '$db' -Name tz-w"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('tz-windows')
        $line = "Get-JobSchedule -Database '$db' -Name n"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('nightly-file')
        $line = "New-JobSchedule -TimeZone Europe/Ber"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'Europe/Berlin'
    }
}

Describe 'Changing schedules on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $db = New-TestDatabase -Backend $_
        New-JobSchedule -Database $db -Name daily-a -Type training -Cron '0 2 * * *' -Config @{ v = 1 } | Out-Null
        New-JobSchedule -Database $db -Name daily-b -Type training -Cron '0 3 * * *' | Out-Null
        New-JobSchedule -Database $db -Name hourly-eval -Type evaluation -Cron '0 * * * *' -Config @{ dataset = 'test' } -Priority 3 | Out-Null
    }

    It 'Set-JobSchedule changes only what it is given and computes the next run again for a new expression' {
        $before = Get-JobSchedule -Database $db -Name hourly-eval
        $changed = Set-JobSchedule -Database $db -Name hourly-eval -Priority 9 -PassThru
        $changed.Priority | Should -Be 9
        $changed.NextRun | Should -Be $before.NextRun
        $changed.Config.dataset | Should -Be 'test'

        $changed = Set-JobSchedule -Database $db -Name hourly-eval -Cron '*/30 * * * *' -PassThru
        $changed.Expression | Should -Be '*/30 * * * *'
        $changed.NextRun.ToUniversalTime().Minute | Should -BeIn 0, 30
        $changed.NextRun | Should -BeLessOrEqual ((Get-Date).AddMinutes(30))
        $changed.Priority | Should -Be 9
    }

    It 'Set-JobSchedule replaces the config, clears the command and timeout, renames' {
        Set-JobSchedule -Database $db -Name daily-a -Command 'python', 'a.py' -Timeout '00:30:00'
        $s = Set-JobSchedule -Database $db -Name daily-a -Config @{ v = 2 } -Command $null -Timeout $null -NewName daily-renamed -PassThru
        $s.Name | Should -Be 'daily-renamed'
        $s.Config.v | Should -Be 2
        $s.Command | Should -BeNullOrEmpty
        $s.Timeout | Should -BeNullOrEmpty
        Get-JobSchedule -Database $db -Name daily-a -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'Set-JobSchedule -WhatIf changes nothing' {
        $before = Get-DatabaseSnapshot $db
        Set-JobSchedule -Database $db -Name hourly-eval -Cron '0 0 * * *' -Priority 1 -WhatIf
        Get-DatabaseSnapshot $db | Should -Be $before
    }

    It 'disables and enables schedules piped from Get-JobSchedule (daily* | Disable-JobSchedule)' {
        Get-JobSchedule -Database $db daily* | Disable-JobSchedule
        $disabled = Get-JobSchedule -Database $db daily*
        $disabled.Enabled | Should -Be @($false, $false)
        $disabled | ForEach-Object { $_.NextRun | Should -BeNullOrEmpty }
        (Get-JobSchedule -Database $db -Name hourly-eval).Enabled | Should -BeTrue

        $before = Get-Date
        $enabled = Get-JobSchedule -Database $db daily* | Enable-JobSchedule -PassThru
        $enabled.Enabled | Should -Be @($true, $true)
        $enabled | ForEach-Object { $_.NextRun | Should -BeGreaterThan $before }
    }

    It 'enables and disables by -Name and -Id, and by objects with a Name or Id property' {
        $b = Get-JobSchedule -Database $db -Name daily-b
        (Disable-JobSchedule -Database $db -Id $b.ScheduleId -PassThru).Enabled | Should -BeFalse
        (Enable-JobSchedule -Database $db -Name daily-b -PassThru).Enabled | Should -BeTrue
        ([pscustomobject]@{ Name = 'daily-b' } | Disable-JobSchedule -Database $db -PassThru).Enabled | Should -BeFalse
        ([pscustomobject]@{ Id = $b.ScheduleId } | Enable-JobSchedule -Database $db -PassThru).Enabled | Should -BeTrue
    }

    It 'leaves an enabled schedule''s next run alone when it is enabled again' {
        $s = Get-JobSchedule -Database $db -Name hourly-eval
        (Enable-JobSchedule -Database $db -Name hourly-eval -PassThru).NextRun | Should -Be $s.NextRun
    }

    It 'Remove-JobSchedule deletes the schedule but keeps the jobs it created' {
        $s = New-JobSchedule -Database $db -Name to-remove -Type export -Cron '0 0 * * *' -StartAt ([DateTimeOffset]'2026-01-01T00:00:00Z')
        $job = Invoke-JobScheduler -Database $db -Now ([DateTimeOffset]'2026-01-01T00:00:00Z') | Where-Object ScheduleId -EQ $s.ScheduleId
        Remove-JobSchedule -Database $db -Name to-remove -WhatIf
        Get-JobSchedule -Database $db -Name to-remove | Should -Not -BeNullOrEmpty
        Get-JobSchedule -Database $db -Name to-remove | Remove-JobSchedule -Confirm:$false
        Get-JobSchedule -Database $db -Name to-remove* | Should -BeNullOrEmpty
        (Get-TrainingJob -Database $db -Id $job.JobId).ScheduleId | Should -Be $s.ScheduleId
    }
}

Describe 'Firing on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $db = New-TestDatabase -Backend $_
        $at = [DateTimeOffset]'2026-05-04T02:00:00Z'
        $s = New-JobSchedule -Database $db -Name nightly -Type retraining -Cron '0 2 * * *' -Config @{ dataset = 'prod'; epochs = 3 } `
            -Priority 7 -MaxRetries 5 -Command 'python', 'retrain.py' -Timeout '01:00:00' -GpuCount 1 -StartAt $at
    }

    It '-WhatIf creates nothing' {
        Invoke-JobScheduler -Database $db -Now $at -WhatIf | Should -BeNullOrEmpty
        Get-TrainingJob -Database $db | Should -BeNullOrEmpty
    }

    It 'creates a job that carries the schedule''s id, name, config, priority, retries, command, timeout and GPUs' {
        $job = Invoke-JobScheduler -Database $db -Now $at
        $job | Should -HaveCount 1
        $stored = Get-TrainingJob -Database $db -Id $job.JobId
        foreach ($j in $job, $stored) {
            $j.ScheduleId | Should -Be $s.ScheduleId
            $j.Name | Should -Be 'nightly'
            $j.JobType | Should -Be 'retraining'
            $j.Status | Should -Be 'Pending'
            $j.Config.dataset | Should -Be 'prod'
            $j.Config.epochs | Should -Be 3
            $j.Priority | Should -Be 7
            $j.MaxRetries | Should -Be 5
            $j.Command | Should -Be @('python', 'retrain.py')
            $j.Timeout | Should -Be ([TimeSpan]'01:00:00')
            $j.GpuCount | Should -Be 1
            $j.ScheduledFor | ConvertTo-UtcText | Should -Be '2026-05-04T02:00Z'
        }
        $after = Get-JobSchedule -Database $db -Name nightly
        $after.LastRun | ConvertTo-UtcText | Should -Be '2026-05-04T02:00Z'
        $after.NextRun | ConvertTo-UtcText | Should -Be '2026-05-05T02:00Z'
        Get-TrainingJob -Database $db -ScheduleId $s.ScheduleId | Should -HaveCount 1
    }

    It 'creates nothing when the same moment is passed again, nor when nothing is due' {
        Invoke-JobScheduler -Database $db -Now $at | Should -BeNullOrEmpty
        Invoke-JobScheduler -Database $db -Now $at.AddHours(12) | Should -BeNullOrEmpty
        Get-TrainingJob -Database $db | Should -HaveCount 1
    }

    It 'never creates an occurrence''s job twice, even when its next run is moved back' {
        Enable-JobSchedule -Database $db -Name nightly -StartAt $at | Out-Null
        Invoke-JobScheduler -Database $db -Now $at -Verbose 4>&1 |
            Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } |
            ForEach-Object Message | Should -Contain "Schedule 'nightly': 1 run already had their job; not created again."
        Get-TrainingJob -Database $db -ScheduleId $s.ScheduleId | Should -HaveCount 1
        (Get-JobSchedule -Database $db -Name nightly).NextRun | ConvertTo-UtcText | Should -Be '2026-05-05T02:00Z'
    }

    It 'leaves disabled schedules alone' {
        Disable-JobSchedule -Database $db -Name nightly
        Invoke-JobScheduler -Database $db -Now $at.AddDays(3) | Should -BeNullOrEmpty
        Enable-JobSchedule -Database $db -Name nightly
    }
}

Describe 'Schedules edited with SQL on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
    }

    It 'fires a schedule whose next run was set by hand, as the guide''s troubleshooting SQL would' -Skip:($_ -eq 'SQLite' -and -not (Get-Command sqlite3 -ErrorAction Ignore)) {
        $db = New-TestDatabase -Backend $backend
        $s = New-JobSchedule -Database $db -Name by-hand -Type evaluation -Cron '0 2 * * *'
        Invoke-QueueSql $db "UPDATE schedules SET next_run = '2026-05-10T02:00:00Z' WHERE name = 'by-hand'" | Out-Null
        $job = Invoke-JobScheduler -Database $db -Now ([DateTimeOffset]'2026-05-10T02:00:30Z')
        $job.ScheduleId | Should -Be $s.ScheduleId
        $job.ScheduledFor | ConvertTo-UtcText | Should -Be '2026-05-10T02:00Z'
        (Get-JobSchedule -Database $db -Name by-hand).NextRun | ConvertTo-UtcText | Should -Be '2026-05-11T02:00Z'
    }

    It 'reports a schedule whose expression was broken by hand, and still fires the others' -Skip:($_ -eq 'SQLite' -and -not (Get-Command sqlite3 -ErrorAction Ignore)) {
        $db = New-TestDatabase -Backend $backend
        $at = [DateTimeOffset]'2026-05-10T02:00:00Z'
        New-JobSchedule -Database $db -Name broken -Type evaluation -Cron '0 2 * * *' -StartAt $at | Out-Null
        $good = New-JobSchedule -Database $db -Name good -Type evaluation -Cron '0 2 * * *' -StartAt $at
        Invoke-QueueSql $db "UPDATE schedules SET schedule_expr = '0 99 * * *' WHERE name = 'broken'" | Out-Null
        $jobs = Invoke-JobScheduler -Database $db -Now $at -ErrorVariable problems -ErrorAction SilentlyContinue
        $jobs.ScheduleId | Should -Be $good.ScheduleId
        $problems | Should -HaveCount 1
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'InvalidCron,*'
        "$($problems[0])" | Should -BeLike "Schedule 'broken'*Set-JobSchedule*"
    }
}

Describe 'Bad input changes nothing on <_>' -ForEach (Get-TestBackend) {
    BeforeAll {
        $db = New-TestDatabase -Backend $_
        New-JobSchedule -Database $db -Name existing -Type training -Cron '0 2 * * *' -Config @{ a = 1 } | Out-Null
        New-JobSchedule -Database $db -Name second -Type evaluation -Cron '0 * * * *' | Out-Null
        $snapshot = Get-DatabaseSnapshot $db
    }

    AfterEach {
        Get-DatabaseSnapshot $db | Should -Be $snapshot
    }

    It 'rejects the cron expression "<Cron>" with InvalidCron' -ForEach @(
        @{ Cron = '0 25 * * *' }
        @{ Cron = '* * * *' }
        @{ Cron = '0 0 * * * *' }
        @{ Cron = 'H 2 * * *' }
        @{ Cron = '0 0 30 2 *' }
        @{ Cron = '@fortnightly' }
        @{ Cron = '@every_second' }
        @{ Cron = 'every day' }
    ) {
        $e = Get-ErrorFrom { New-JobSchedule -Database $db -Name fresh -Type training -Cron $Cron -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidCron,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.Exception.Message | Should -Match 'cron expression'
        $e.Exception.Message | Should -Not -Match '\bat JobQueue\.' -Because 'a user mistake gets a message, not a stack trace'
        $e = Get-ErrorFrom { Set-JobSchedule -Database $db -Name existing -Cron $Cron -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidCron,*'
    }

    It 'rejects an unknown time zone with InvalidTimeZone' {
        $e = Get-ErrorFrom { New-JobSchedule -Database $db -Name fresh -Type training -Cron '0 2 * * *' -TimeZone 'Mars/Olympus_Mons' -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidTimeZone,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.Exception.Message | Should -Match 'Europe/Berlin'
        (Get-ErrorFrom { Set-JobSchedule -Database $db -Name existing -TimeZone 'Nowhere/Land' -ErrorAction Stop }).FullyQualifiedErrorId | Should -BeLike 'InvalidTimeZone,*'
    }

    It 'rejects a duplicate name, whatever its case, with DuplicateScheduleName' {
        foreach ($name in 'existing', 'EXISTING') {
            $e = Get-ErrorFrom { New-JobSchedule -Database $db -Name $name -Type training -Cron '0 3 * * *' -ErrorAction Stop }
            $e.FullyQualifiedErrorId | Should -BeLike 'DuplicateScheduleName,*'
            $e.CategoryInfo.Category | Should -Be 'ResourceExists'
            $e.TargetObject | Should -Be $name
        }
        $e = Get-ErrorFrom { Set-JobSchedule -Database $db -Name second -NewName EXISTING -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike 'DuplicateScheduleName,*'
    }

    It 'reports an unknown schedule with ScheduleNotFound from every cmdlet' {
        foreach ($command in 'Get-JobSchedule', 'Set-JobSchedule', 'Enable-JobSchedule', 'Disable-JobSchedule', 'Remove-JobSchedule') {
            $extra = @{}
            if ($command -eq 'Set-JobSchedule') { $extra.Priority = 2 }
            if ($command -ne 'Get-JobSchedule') { $extra.Confirm = $false }
            $e = Get-ErrorFrom { & $command -Database $db -Name no-such-schedule @extra -ErrorAction Stop }
            $e.FullyQualifiedErrorId | Should -BeLike 'ScheduleNotFound,*' -Because $command
            $e.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $e.TargetObject | Should -Be 'no-such-schedule'
            $e = Get-ErrorFrom { & $command -Database $db -Id 4242 @extra -ErrorAction Stop }
            $e.FullyQualifiedErrorId | Should -BeLike 'ScheduleNotFound,*' -Because $command
            $e.TargetObject | Should -Be 4242
        }
    }

    It 'goes on with the other schedules of a pipeline when one is missing' {
        $out = Get-JobSchedule -Database $db -Name no-such-schedule, existing -ErrorVariable errors -ErrorAction SilentlyContinue
        $out.Name | Should -Be 'existing'
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ScheduleNotFound,*'
    }

    It 'rejects bad names, types, priorities, retries and configs with their own ids' -ForEach @(
        @{ Id = 'InvalidScheduleName'; Splat = @{ Name = '9lives' } }
        @{ Id = 'InvalidScheduleName'; Splat = @{ Name = 'has space' } }
        @{ Id = 'InvalidJobType'; Splat = @{ Type = 'no way' } }
        @{ Id = 'InvalidPriority'; Splat = @{ Priority = 11 } }
        @{ Id = 'InvalidMaxRetries'; Splat = @{ MaxRetries = -1 } }
        @{ Id = 'InvalidConfig'; Splat = @{ Config = '[1, 2]' } }
        @{ Id = 'InvalidConfig'; Splat = @{ Config = '{not json' } }
    ) {
        $arguments = @{ Database = $db; Name = 'fresh'; Type = 'training'; Cron = '0 2 * * *' }
        foreach ($k in $Splat.Keys) { $arguments[$k] = $Splat[$k] }
        $e = Get-ErrorFrom { New-JobSchedule @arguments -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -BeLike "$Id,*"
    }
}
