# The batch path of Submit-TrainingJob (piped objects): many rows to a statement, counters added
# once per batch. What a user sees must not differ from one Submit-TrainingJob call per job.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

AfterAll { Remove-TestFolders }

Describe 'Piped Submit-TrainingJob on SQLite' {
    BeforeEach { $db = New-TestDatabase }

    It 'returns every job with the id it was stored under, in order, and keeps the statistics exact' {
        # 203 jobs a batch: three full statements of 64 rows and a tail of single rows.
        $all = foreach ($type in 'training', 'evaluation', 'training') {
            1..203 | ForEach-Object { @{ n = $_; type = $type } } | Submit-TrainingJob -Database $db -Type $type -Priority 7
        }
        $all.Count | Should -Be 609
        @($all.JobId | Sort-Object -Unique).Count | Should -Be 609
        foreach ($job in $all | Get-Random -Count 40 -SetSeed 5) {
            $stored = Get-TrainingJob -Database $db -Id $job.JobId
            $stored.Config.n | Should -Be $job.Config.n
            $stored.JobType | Should -Be $job.Config.type
            $stored.Priority | Should -Be 7
            $stored.CreatedAt | Should -Be $job.CreatedAt
        }
        $stats = Get-JobQueueStatistics -Database $db
        $stats.Pending | Should -Be 609
        $counted = Invoke-Sqlite $db "SELECT job_type || '=' || count(*) FROM jobs GROUP BY job_type ORDER BY job_type"
        $kept = Invoke-Sqlite $db "SELECT job_type || '=' || n FROM job_counts WHERE status = 'active' AND n <> 0 ORDER BY job_type"
        $kept | Should -Be $counted
        Invoke-Sqlite $db "SELECT count(*) FROM jobqueue_settings WHERE key = 'batch_counts_pending'" | Should -Be '0'
    }

    It 'still counts rows that hand-written SQL inserts after a batch' {
        1..100 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training | Out-Null
        Invoke-Sqlite $db "INSERT INTO jobs (job_type, created_at) VALUES ('training', '2030-01-01T00:00:00.000Z')" | Out-Null
        (Get-JobQueueStatistics -Database $db).Pending | Should -Be 101
    }

    It 'keeps a name with a NUL character or non-ASCII text whole' {
        $nul = @(1..70 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training -Name "a`0b")
        $text = @(1..70 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training -Name 'Größe-日本')
        (Get-TrainingJob -Database $db -Id $nul[0].JobId).Name | Should -Be "a`0b"
        (Get-TrainingJob -Database $db -Id $nul[-1].JobId).Name | Should -Be "a`0b"
        (Get-TrainingJob -Database $db -Id $text[65].JobId).Name | Should -Be 'Größe-日本'
    }

    It 'holds a delayed batch until its time, and hands out an undelayed one at once' {
        1..70 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training -NotBefore (Get-Date).AddHours(1) | Out-Null
        Receive-TrainingJob -Database $db -WorkerId w1 | Should -BeNullOrEmpty
        $ready = @(1..3 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type evaluation)
        (Receive-TrainingJob -Database $db -WorkerId w1).JobId | Should -Be $ready[0].JobId
    }
}
