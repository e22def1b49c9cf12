# Creating a queue and putting jobs into it: Initialize-JobQueue and every Submit-TrainingJob parameter.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

AfterAll { Remove-TestFolders }

Describe 'Initialize-JobQueue (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach { $db = New-TestDatabase -Backend $backend }

    It 'creates an empty queue and reports its schema version' {
        $info = Initialize-JobQueue -Database $db
        $info.Backend | Should -Be $backend
        $info.SchemaVersion | Should -BeGreaterOrEqual 1
        $info.Jobs | Should -Be 0
        $info.Schedules | Should -Be 0
        @(Get-TrainingJob -Database $db).Count | Should -Be 0
    }

    It 'is safe to run again on a queue that holds jobs' {
        $first = Initialize-JobQueue -Database $db
        1..3 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training | Out-Null
        $again = Initialize-JobQueue -Database $db
        $again.SchemaVersion | Should -Be $first.SchemaVersion
        $again.Jobs | Should -Be 3
        @(Get-TrainingJob -Database $db).Count | Should -Be 3
    }
}

Describe 'Initialize-JobQueue on an SQLite file (<_>)' -ForEach (Get-SqliteBackend) {
    It 'remembers -Durability Full for later commands' {
        $db = New-TestDatabase -Backend $_
        (Initialize-JobQueue -Database $db).Durability | Should -Be 'Normal'
        (Initialize-JobQueue -Database $db -Durability Full).Durability | Should -Be 'Full'
        (Initialize-JobQueue -Database $db).Durability | Should -Be 'Full'
        Invoke-Sqlite $db "SELECT value FROM jobqueue_settings WHERE key = 'durability'" | Should -Be 'Full'
    }

    It 'makes a WAL-mode file and reports it' {
        $db = New-TestDatabase -Backend $_
        $info = Initialize-JobQueue -Database $db
        $info.Database | Should -Be $db
        $info.JournalMode | Should -Be 'wal'
        Invoke-Sqlite $db 'PRAGMA user_version' | Should -Be "$($info.SchemaVersion)"
    }
}

Describe 'Submit-TrainingJob (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach { $db = New-TestDatabase -Backend $backend }

    It 'queues a pending job with the guide''s defaults (priority 5, 3 retries)' {
        $before = Get-Date
        $job = Submit-TrainingJob -Database $db -Type training -Config @{ epochs = 10 }
        $job.JobId | Should -BeGreaterThan 0
        $job.Id | Should -Be $job.JobId
        $job.JobType | Should -Be 'training'
        $job.Status | Should -Be 'Pending'
        $job.Priority | Should -Be 5
        $job.MaxRetries | Should -Be 3
        $job.RetryCount | Should -Be 0
        $job.StartedAt | Should -BeNullOrEmpty
        $job.WorkerId | Should -BeNullOrEmpty
        $job.CreatedAt | Should -BeGreaterOrEqual $before.AddSeconds(-2)
        $job.CreatedAt | Should -BeLessOrEqual (Get-Date).AddSeconds(2)

        $stored = Get-TrainingJob -Database $db -Id $job.JobId
        $stored.Status | Should -Be 'Pending'
        $stored.CreatedAt | Should -Be $job.CreatedAt
        $stored.Config.epochs | Should -Be 10
    }

    It 'keeps -Priority, -MaxRetries and -Name' {
        $job = Submit-TrainingJob -Database $db -Type retraining -Priority 9 -MaxRetries 0 -Name 'hotfix-retrain'
        $stored = Get-TrainingJob -Database $db -Id $job.JobId
        $stored.Priority | Should -Be 9
        $stored.MaxRetries | Should -Be 0
        $stored.Name | Should -Be 'hotfix-retrain'
        $stored.JobType | Should -Be 'retraining'
    }

    It 'accepts priorities 1 and 10, the ends of the range' {
        (Submit-TrainingJob -Database $db -Type training -Priority 1).Priority | Should -Be 1
        (Submit-TrainingJob -Database $db -Type training -Priority 10).Priority | Should -Be 10
    }

    It 'accepts job types beyond the four of the guide' {
        $job = Submit-TrainingJob -Database $db -Type 'data-prep.v2' -Config @{}
        (Get-TrainingJob -Database $db -Id $job.JobId).JobType | Should -Be 'data-prep.v2'
    }

    It 'keeps -Command as an argument vector, spaces and quotes included' {
        $command = 'python', 'train.py', '--lr', '5e-5', '--note', 'two words "quoted"'
        $job = Submit-TrainingJob -Database $db -Type training -Command $command
        $stored = Get-TrainingJob -Database $db -Id $job.JobId
        $stored.Command | Should -Be $command
        $stored.Command.Count | Should -Be 6
    }

    It 'keeps -Timeout and -GpuCount' {
        $job = Submit-TrainingJob -Database $db -Type training -Timeout '01:30:00' -GpuCount 2
        $stored = Get-TrainingJob -Database $db -Id $job.JobId
        $stored.Timeout | Should -Be ([TimeSpan]::FromMinutes(90))
        $stored.GpuCount | Should -Be 2
        (Get-TrainingJob -Database $db -Id (Submit-TrainingJob -Database $db -Type training).JobId).Timeout | Should -BeNullOrEmpty
    }

    It 'keeps -NotBefore as the earliest start' {
        $at = (Get-Date).AddHours(3)
        $job = Submit-TrainingJob -Database $db -Type evaluation -NotBefore $at
        $stored = Get-TrainingJob -Database $db -Id $job.JobId
        [Math]::Abs(($stored.NotBefore - $at).TotalMilliseconds) | Should -BeLessOrEqual 1
        $stored.Status | Should -Be 'Pending'
    }

    It 'reads the config from a JSON file with -ConfigPath, relative to the current location' {
        $folder = New-TestFolder
        Set-Content -LiteralPath (Join-Path $folder 'config.json') -Encoding utf8 -Value '{"model": "gpt-small", "training_config": {"epochs": 3, "learning_rate": 5e-5}, "tags": ["nightly", "β"]}'
        Push-Location $folder
        try {
            $job = Submit-TrainingJob -Database $db -Type training -ConfigPath ./config.json -Priority 7
        }
        finally { Pop-Location }
        $stored = Get-TrainingJob -Database $db -Id $job.JobId
        $stored.Config.model | Should -Be 'gpt-small'
        $stored.Config.training_config.epochs | Should -Be 3
        $stored.Config.training_config.learning_rate | Should -Be 5e-5
        $stored.Config.tags | Should -Be @('nightly', 'β')
        $stored.Priority | Should -Be 7
    }

    It 'takes JSON object text as -Config, like the guide''s CLI' {
        $job = Submit-TrainingJob -Database $db -Type evaluation -Config '{"dataset": "test"}' -Priority 5
        (Get-TrainingJob -Database $db -Id $job.JobId).Config.dataset | Should -Be 'test'
    }

    It 'makes one job per piped CSV row, in order, across more than one insert batch' {
        # 5,001 rows: one more than a full batch of 5,000, so the batch boundary is crossed.
        $csv = 1..5001 | ForEach-Object { "$_,$(0.0001 * $_),run-$_" }
        $rows = @('index,learning_rate,run') + $csv | ConvertFrom-Csv
        $jobs = $rows | Submit-TrainingJob -Database $db -Type training -Priority 4
        $jobs.Count | Should -Be 5001
        ($jobs.JobId | Sort-Object -Unique).Count | Should -Be 5001
        for ($i = 1; $i -lt $jobs.Count; $i++) {
            if ($jobs[$i].JobId -le $jobs[$i - 1].JobId) { throw "Job ids are not in row order at row $i." }
        }
        (Get-JobQueueStatistics -Database $db).Pending | Should -Be 5001
        $stored = Get-TrainingJob -Database $db -Id $jobs[0].JobId, $jobs[-1].JobId
        $last = $stored | Where-Object JobId -EQ $jobs[-1].JobId
        $last.Config.index | Should -Be '5001'
        $last.Config.run | Should -Be 'run-5001'
        @($last.Config.Keys) | Should -Be @('index', 'learning_rate', 'run')
        $last.Priority | Should -Be 4
        ($stored | Where-Object JobId -EQ $jobs[0].JobId).Config.run | Should -Be 'run-1'
    }

    It 'makes one job per piped hashtable' {
        $jobs = @{ lr = 1e-4 }, @{ lr = 5e-5 }, @{ lr = 1e-5 } | Submit-TrainingJob -Database $db -Type training
        $jobs.Count | Should -Be 3
        (Get-TrainingJob -Database $db -Id $jobs.JobId | Sort-Object JobId).Config.lr | Should -Be @(1e-4, 5e-5, 1e-5)
    }

    It 'submits nothing under -WhatIf' {
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $before = Get-QueueSnapshot $db
        $result = Submit-TrainingJob -Database $db -Type training -Config @{ a = 1 } -WhatIf
        $result | Should -BeNullOrEmpty
        @{ a = 1 }, @{ a = 2 } | Submit-TrainingJob -Database $db -Type training -WhatIf | Should -BeNullOrEmpty
        Get-QueueSnapshot $db | Should -Be $before
    }
}

Describe 'A queue that -WhatIf must not create (<_>)' -ForEach (Get-SqliteBackend) {
    It 'leaves a missing database file uncreated under -WhatIf, whatever the cmdlet' {
        $db = New-TestDatabase -Backend $_
        Submit-TrainingJob -Database $db -Type training -WhatIf
        Initialize-JobQueue -Database $db -WhatIf
        Backup-JobQueue -Database $db -Destination "$db.bak" -WhatIf
        Receive-TrainingJob -Database $db -WorkerId w -WhatIf
        Complete-TrainingJob -Database $db -Id 1 -WhatIf
        Stop-TrainingJob -Database $db -Id 1 -WhatIf
        Restart-TrainingJob -Database $db -Id 1 -WhatIf
        Remove-TrainingJob -Database $db -Id 1 -WhatIf
        Remove-TrainingJob -Database $db -Status Completed -OlderThan 0 -WhatIf
        Test-Path $db | Should -BeFalse
        Test-Path "$db.bak" | Should -BeFalse
    }
}
