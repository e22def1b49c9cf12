# Reading the queue: Get-TrainingJob filters and order, Get-JobQueueStatistics, views, tab completion.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Lifecycle.Helpers.ps1')

    function Get-Completion([string] $Line) {
        (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches
    }
}

Describe 'Get-TrainingJob (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        $db = New-TestDatabase -Backend $backend
        # A small queue in every state: 2 completed, 1 failed, 1 cancelled, 1 running, 3 pending.
        $t1 = Submit-TrainingJob -Database $db -Type training -Name 'bert-base-sweep-1' -Priority 3
        $t2 = Submit-TrainingJob -Database $db -Type training -Name 'bert-base-sweep-2' -Priority 8
        $e1 = Submit-TrainingJob -Database $db -Type evaluation -Name 'eval-nightly' -Priority 8
        $x1 = Submit-TrainingJob -Database $db -Type export -Name 'export_onnx' -MaxRetries 0
        $r1 = Submit-TrainingJob -Database $db -Type retraining -Name 'retrain-hotfix' -Priority 10
        $p1 = Submit-TrainingJob -Database $db -Type training -Name 'gpt-small' -Priority 2
        $p2 = Submit-TrainingJob -Database $db -Type evaluation -Name '100%_done?' -Priority 6
        $p3 = Submit-TrainingJob -Database $db -Type training -Priority 6

        Receive-TrainingJob -Database $db -WorkerId 'worker-01' | Complete-TrainingJob   # r1 (priority 10)
        Receive-TrainingJob -Database $db -WorkerId 'worker-02' | Complete-TrainingJob   # t2 (8, older than e1)
        Receive-TrainingJob -Database $db -WorkerId 'worker-01' | Out-Null               # e1 stays running
        Stop-TrainingJob -Database $db -Id $t1.JobId
        Receive-TrainingJob -Database $db -WorkerId 'worker-02' -Type export | Complete-TrainingJob -Failed -ErrorMessage 'disk full'
    }

    It 'lists every job, newest first' {
        $all = Get-TrainingJob -Database $db
        $all.Count | Should -Be 8
        $all.JobId | Should -Be @($p3, $p2, $p1, $r1, $x1, $e1, $t2, $t1).JobId
    }

    It 'gets jobs by -Id, positionally and by the JobId alias' {
        (Get-TrainingJob -Database $db -Id $e1.JobId).Name | Should -Be 'eval-nightly'
        (Get-TrainingJob $t2.JobId -Database $db).Name | Should -Be 'bert-base-sweep-2'
        (Get-TrainingJob -Database $db -JobId $t1.JobId, $x1.JobId).Name | Sort-Object | Should -Be @('bert-base-sweep-1', 'export_onnx')
    }

    It 'gets jobs from ids piped in' {
        ($x1.JobId, $p1.JobId | Get-TrainingJob -Database $db).Name | Should -Be @('export_onnx', 'gpt-small')
    }

    It 'shows each state after the lifecycle commands' {
        (Get-TrainingJob -Database $db -Id $r1.JobId).Status | Should -Be 'Completed'
        (Get-TrainingJob -Database $db -Id $t2.JobId).Status | Should -Be 'Completed'
        (Get-TrainingJob -Database $db -Id $e1.JobId).Status | Should -Be 'Running'
        (Get-TrainingJob -Database $db -Id $t1.JobId).Status | Should -Be 'Cancelled'
        $failed = Get-TrainingJob -Database $db -Id $x1.JobId
        $failed.Status | Should -Be 'Failed'
        $failed.ErrorMessage | Should -Be 'disk full'
        $failed.Duration | Should -BeOfType [TimeSpan]
    }

    It 'filters by -Status, one or several' {
        (Get-TrainingJob -Database $db -Status Completed).JobId | Sort-Object | Should -Be @($t2.JobId, $r1.JobId)
        (Get-TrainingJob -Database $db -Status Failed, Cancelled).JobId | Sort-Object | Should -Be @($t1.JobId, $x1.JobId)
        (Get-TrainingJob -Database $db -Status Running).WorkerId | Should -Be 'worker-01'
    }

    It 'lists pending jobs in the order workers will claim them (priority, then oldest)' {
        (Get-TrainingJob -Database $db -Status Pending).JobId | Should -Be @($p2.JobId, $p3.JobId, $p1.JobId)
    }

    It 'filters by -Type, one or several' {
        (Get-TrainingJob -Database $db -Type training).Count | Should -Be 4
        (Get-TrainingJob -Database $db -Type evaluation, export).JobId | Should -Be @($p2, $x1, $e1).JobId
        Get-TrainingJob -Database $db -Type 'never-used' | Should -BeNullOrEmpty
    }

    It 'filters by -Name with wildcards, case-insensitively' {
        (Get-TrainingJob -Database $db -Name 'bert-*').Name | Should -Be @('bert-base-sweep-2', 'bert-base-sweep-1')
        (Get-TrainingJob -Database $db -Name '*SWEEP-?').Count | Should -Be 2
        (Get-TrainingJob -Database $db -Name 'gpt-small').JobId | Should -Be $p1.JobId
        Get-TrainingJob -Database $db -Name 'gpt' | Should -BeNullOrEmpty
    }

    It 'matches [...] character classes in -Name, as PowerShell wildcards do' {
        (Get-TrainingJob -Database $db -Name 'bert-base-sweep-[12]').Name | Should -Be @('bert-base-sweep-2', 'bert-base-sweep-1')
        (Get-TrainingJob -Database $db -Name '*-[2-9]').Name | Should -Be @('bert-base-sweep-2')
        (Get-TrainingJob -Database $db -Name '[eg]*' -First 1).Name | Should -Be 'gpt-small'
        (Get-TrainingJob -Database $db -Name '[eg]*').Name | Should -Be @('gpt-small', 'export_onnx', 'eval-nightly')
        Get-TrainingJob -Database $db -Name 'bert-base-sweep-[3-9]' | Should -BeNullOrEmpty
    }

    It 'treats % and _ in -Name literally, as PowerShell wildcards do' {
        (Get-TrainingJob -Database $db -Name '100%_done`?').JobId | Should -Be $p2.JobId
        (Get-TrainingJob -Database $db -Name 'export_*').JobId | Should -Be $x1.JobId
        Get-TrainingJob -Database $db -Name 'export%' | Should -BeNullOrEmpty
        Get-TrainingJob -Database $db -Name 'export-onnx' | Should -BeNullOrEmpty
    }

    It 'filters by -WorkerId' {
        (Get-TrainingJob -Database $db -WorkerId 'worker-02').JobId | Should -Be @($x1.JobId, $t2.JobId)
    }

    It 'combines filters and limits the count with -First' {
        (Get-TrainingJob -Database $db -First 3).JobId | Should -Be @($p3, $p2, $p1).JobId
        (Get-TrainingJob -Database $db -Status Pending -First 1).JobId | Should -Be $p2.JobId
        (Get-TrainingJob -Database $db -Type training -Status Pending, Completed -First 2).JobId | Should -Be @($p3, $p1).JobId
    }

    It 'shows in a table and, with Format-List, what the guide''s show printed' {
        $table = Get-TrainingJob -Database $db -Id $x1.JobId | Format-Table | Out-String -Width 200
        $table | Should -Match 'Id\s+Type\s+Name\s+Status\s+Prio\s+Retries'
        $table | Should -Match 'export\s+export_onnx\s+failed\s+5\s+0/0\s+worker-02'
        $list = Get-TrainingJob -Database $db -Id $r1.JobId | Format-List | Out-String -Width 200
        foreach ($label in 'Job ID', 'Type', 'Status', 'Priority', 'Created', 'Started', 'Completed', 'Worker', 'Retries', 'Configuration') {
            $list | Should -Match "(?m)^$label\s*:"
        }
        $list | Should -Match '(?m)^Started\s*: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d'
        $list | Should -Match '(?m)^Completed\s*: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d'
        $list | Should -Match '(?m)^Worker\s*: worker-01'
        $list | Should -Match '(?m)^Retries\s*: 0/3'
    }
}

Describe 'Get-JobQueueStatistics (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        $db = New-TestDatabase -Backend $backend
    }

    It 'counts an empty queue as zeros' {
        $stats = Get-JobQueueStatistics -Database $db
        $stats.Total | Should -Be 0
        $stats.Pending | Should -Be 0
        @($stats.ByType).Count | Should -Be 0
    }

    It 'counts jobs by status, in total and per type' {
        1..4 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training | Out-Null
        $evals = 1..2 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type evaluation
        Receive-TrainingJob -Database $db -WorkerId w -Type training | Complete-TrainingJob
        Receive-TrainingJob -Database $db -WorkerId w -Type training | Out-Null
        $eval = Receive-TrainingJob -Database $db -WorkerId w -Type evaluation
        Complete-TrainingJob -Database $db -Id $eval.JobId -Failed
        Stop-TrainingJob -Database $db -Id $evals[1].JobId
        $stats = Get-JobQueueStatistics -Database $db
        # The failed evaluation had retries left: it is pending again.
        $stats.Pending | Should -Be 3
        $stats.Running | Should -Be 1
        $stats.Completed | Should -Be 1
        $stats.Failed | Should -Be 0
        $stats.Cancelled | Should -Be 1
        $stats.Total | Should -Be 6
        $training = $stats.ByType | Where-Object JobType -EQ 'training'
        $training.Pending | Should -Be 2
        $training.Running | Should -Be 1
        $training.Completed | Should -Be 1
        $training.Total | Should -Be 4
        ($stats.ByType | Where-Object JobType -EQ 'evaluation').Cancelled | Should -Be 1
    }

    It 'counts one type with -Type' {
        $stats = Get-JobQueueStatistics -Database $db -Type evaluation
        $stats.Total | Should -Be 2
        $stats.Pending | Should -Be 1
        $stats.Cancelled | Should -Be 1
        @($stats.ByType).JobType | Should -Be @('evaluation')
        (Get-JobQueueStatistics -Database $db -Type export).Total | Should -Be 0
    }

    It 'prints the guide''s stats block' {
        $text = Get-JobQueueStatistics -Database $db | Out-String
        foreach ($label in 'Pending', 'Running', 'Completed', 'Failed', 'Cancelled', 'Total') {
            $text | Should -Match "(?m)^$label\s*:\s*\d+"
        }
    }
}

Describe 'Tab completion (<_>)' -ForEach (Get-TestBackend) {
    BeforeAll {
        $backend = $_
        $db = New-TestDatabase -Backend $backend
        $jobs = 1..12 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type evaluation
    }

    It 'completes the four job types of the guide' {
        (Get-Completion 'Submit-TrainingJob -Type ').CompletionText | Should -Be @('training', 'evaluation', 'export', 'retraining')
        (Get-Completion 'Submit-TrainingJob -Type ev').CompletionText | Should -Be @('evaluation')
        (Get-Completion 'Get-TrainingJob -Type re').CompletionText | Should -Be @('retraining')
        (Get-Completion 'Receive-TrainingJob -Type ex').CompletionText | Should -Be @('export')
        (Get-Completion 'Get-JobQueueStatistics -Type tr').CompletionText | Should -Be @('training')
    }

    It 'completes job ids from the queue named by -Database, newest first' {
        $ids = (Get-Completion "Get-TrainingJob -Database '$db' -Id ").CompletionText
        $ids[0] | Should -Be "$($jobs[-1].JobId)"
        $ids | Should -Contain "$($jobs[0].JobId)"
        $ids.Count | Should -Be 12
        (Get-Completion "Stop-TrainingJob -Database '$db' -Id 1").CompletionText | Should -Be @('12', '11', '10', '1')
        $match = Get-Completion "Wait-TrainingJob -Database '$db' -Id 12"
        $match.CompletionText | Should -Be '12'
        $match.ToolTip | Should -Match 'evaluation.*pending'
    }

    It 'completes job ids for the cmdlets that take one' {
        foreach ($command in 'Complete-TrainingJob', 'Restart-TrainingJob', 'Remove-TrainingJob', 'Get-TrainingJobLog', 'Write-TrainingJobLog') {
            (Get-Completion "$command -Database '$db' -Id 9").CompletionText | Should -Be @('9') -Because $command
        }
    }
}

Describe 'Tab completion of a relative -Database (<_>)' -ForEach (Get-SqliteBackend) {
    It 'finds the file relative to the PowerShell location, as the cmdlets do' {
        $db = New-TestDatabase -Backend $_
        1..3 | ForEach-Object { @{ n = $_ } } | Submit-TrainingJob -Database $db -Type training | Out-Null
        Push-Location (Split-Path $db)
        try {
            (Get-Completion 'Get-TrainingJob -Database ./jobs.db -Id ').CompletionText | Should -Be @('3', '2', '1')
        }
        finally { Pop-Location }
    }

    It 'never creates a database just to complete an id' {
        $db = New-TestDatabase -Backend $_
        Get-Completion "Get-TrainingJob -Database '$db' -Id " | Should -BeNullOrEmpty
        Test-Path $db | Should -BeFalse
    }
}
