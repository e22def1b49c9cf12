# Backup-JobQueue: a consistent copy of the queue, online, that never overwrites by accident.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

AfterAll { Remove-TestFolders }

Describe 'Backup-JobQueue (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll { $backend = $_ }
    BeforeEach {
        $db = New-TestDatabase -Backend $backend
        $folder = New-TestFolder
        $done = Submit-TrainingJob -Database $db -Type training -Config ([ordered]@{ lr = 5e-5; note = 'Grüße 🚀' }) -Priority 7
        Receive-TrainingJob -Database $db -WorkerId w | Complete-TrainingJob
        Write-TrainingJobLog -Database $db -Id $done.JobId -Message 'Epoch 1/10 - loss: 0.45'
        $waiting = Submit-TrainingJob -Database $db -Type evaluation -Name 'eval-after'
    }

    It 'writes a file that opens as a queue holding the same jobs and logs' {
        $destination = Join-Path $folder 'backup.db'
        $file = Backup-JobQueue -Database $db -Destination $destination
        $file | Should -BeOfType [IO.FileInfo]
        $file.FullName | Should -Be $destination
        ($file | Out-String) | Should -Match "$($file.Length)\s+backup\.db" -Because 'it shows like any file, size included'
        $copy = Get-TrainingJob -Database $destination
        $copy.JobId | Should -Be @($waiting.JobId, $done.JobId)
        ($copy | Where-Object JobId -EQ $done.JobId).Status | Should -Be 'Completed'
        ($copy | Where-Object JobId -EQ $done.JobId).Config.note | Should -Be 'Grüße 🚀'
        ($copy | Where-Object JobId -EQ $waiting.JobId).Name | Should -Be 'eval-after'
        (Get-TrainingJobLog -Database $destination -Id $done.JobId).Message | Should -Be 'Epoch 1/10 - loss: 0.45'
    }

    It 'is a snapshot: later changes to the queue do not reach it' {
        $destination = Join-Path $folder 'snap.db'
        Backup-JobQueue -Database $db -Destination $destination | Out-Null
        Submit-TrainingJob -Database $db -Type export | Out-Null
        Stop-TrainingJob -Database $db -Id $waiting.JobId
        @(Get-TrainingJob -Database $destination).Count | Should -Be 2
        (Get-TrainingJob -Database $destination -Id $waiting.JobId).Status | Should -Be 'Pending'
    }

    It 'creates the destination folder and resolves a relative -Destination against the PowerShell location' {
        Push-Location $folder
        try { $file = Backup-JobQueue -Database $db -Destination 'nightly/queue.db' }
        finally { Pop-Location }
        $file.FullName | Should -Be (Join-Path $folder 'nightly/queue.db')
        @(Get-TrainingJob -Database $file.FullName).Count | Should -Be 2
    }

    It 'refuses to overwrite an existing file with DestinationExists, leaving it as it was' {
        $destination = Join-Path $folder 'precious.db'
        Set-Content -LiteralPath $destination -Value 'do not lose me'
        $err = Get-ThrownError { Backup-JobQueue -Database $db -Destination $destination -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'DestinationExists,*'
        $err.CategoryInfo.Category | Should -Be 'ResourceExists'
        $err.Exception.Message | Should -Match '-Force'
        Get-Content -LiteralPath $destination | Should -Be 'do not lose me'
        Get-ChildItem $folder | Should -HaveCount 1
    }

    It 'replaces an existing file with -Force, even one this session has open' {
        $destination = Join-Path $folder 'old-backup.db'
        Backup-JobQueue -Database $db -Destination $destination | Out-Null
        @(Get-TrainingJob -Database $destination).Count | Should -Be 2
        Submit-TrainingJob -Database $db -Type export | Out-Null
        Backup-JobQueue -Database $db -Destination $destination -Force | Out-Null
        @(Get-TrainingJob -Database $destination).Count | Should -Be 3
        Get-ChildItem $folder -Filter '*partial*' | Should -BeNullOrEmpty -Because 'no partial files are left behind'
    }

    It 'refuses a folder as the destination' {
        $err = Get-ThrownError { Backup-JobQueue -Database $db -Destination $folder -ErrorAction Stop }
        $err.FullyQualifiedErrorId | Should -BeLike 'DestinationExists,*'
        Get-ChildItem $folder | Should -BeNullOrEmpty
    }

    It 'writes nothing under -WhatIf' {
        Backup-JobQueue -Database $db -Destination (Join-Path $folder 'b.db') -WhatIf | Should -BeNullOrEmpty
        Get-ChildItem $folder | Should -BeNullOrEmpty
    }

    It 'backs up while another process keeps writing' {
        $writer = Start-QueueWriter -Database $db
        try {
            $copies = 1..3 | ForEach-Object {
                Backup-JobQueue -Database $db -Destination (Join-Path $folder "live-$_.db")
                Start-Sleep -Milliseconds 200
            }
        }
        finally { $written = Stop-QueueWriter $writer }
        $written | Should -BeGreaterThan 0
        foreach ($copy in $copies) {
            $jobs = Get-TrainingJob -Database $copy.FullName
            $jobs.Count | Should -BeGreaterThan 2
            # One consistent moment: every job the copy holds as completed has its log line with it.
            $finished = @($jobs | Where-Object { $_.JobType -eq 'writer-load' -and $_.Status -eq 'Completed' })
            $finished.Count | Should -BeGreaterThan 0
            foreach ($job in $finished) {
                (Get-TrainingJobLog -Database $copy.FullName -Id $job.JobId).Message | Should -Be "step $($job.Config.n)"
            }
        }
        @(Get-TrainingJob -Database $db).Count | Should -Be ($written + 2)
    }
}

Describe 'Backup-JobQueue of an SQLite file (<_>)' -ForEach (Get-SqliteBackend) {
    It 'refuses the database itself as the destination' {
        $db = New-TestDatabase -Backend $_
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $before = Get-QueueSnapshot $db
        $err = Get-ThrownError { Backup-JobQueue -Database $db -Destination $db -Force -ErrorAction Stop }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-QueueSnapshot $db | Should -Be $before
    }

    It 'makes a file that sqlite3 finds intact, with the guide''s tables' {
        $db = New-TestDatabase -Backend $_
        Submit-TrainingJob -Database $db -Type training | Out-Null
        $copy = Join-Path (New-TestFolder) 'b.db'
        Backup-JobQueue -Database $db -Destination $copy | Out-Null
        Invoke-Sqlite $copy 'PRAGMA integrity_check' | Should -Be 'ok'
        Invoke-Sqlite $copy 'SELECT job_type, status FROM jobs' | Should -Be 'training|pending'
        Invoke-Sqlite $copy "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('jobs', 'schedules', 'job_logs') ORDER BY name" |
            Should -Be @('job_logs', 'jobs', 'schedules')
    }
}
