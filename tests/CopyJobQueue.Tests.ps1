# Copy-JobQueue between every pair of backends this run has (SQLite always, PostgreSQL with a server).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $pairs = foreach ($from in Get-TestBackend) { foreach ($to in Get-TestBackend) { @{ From = $from; To = $to } } }
    $helpPage = Join-Path $PSScriptRoot '../docs/en-US/Copy-JobQueue.md'
    $examples = [regex]::Matches((Get-Content $helpPage -Raw), '(?ms)^### (Example \d+: [^\r\n]+)\r?\n```powershell\r?\n(.*?)\r?\n```') |
        ForEach-Object { @{ Title = $_.Groups[1].Value; Code = $_.Groups[2].Value } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'Postgres.Helpers.ps1')

    function Invoke-Sql([string] $Database, [string] $Sql) {
        # Raw SQL on either backend, for rows no cmdlet makes yet (schedules) and for checks.
        if ($Database -match '(?i)host=') { return Invoke-TestPsql $Sql -Database $Database }
        $out = $Sql | & sqlite3 -separator "`t" $Database
        if ($LASTEXITCODE -ne 0) { throw "sqlite3 failed on $Database" }
        $out
    }

    function Add-TestSchedule([string] $Database, [string] $Name) {
        $enabled = if ($Database -match '(?i)host=') { 'true' } else { '1' }
        Invoke-Sql $Database "INSERT INTO schedules (name, job_type, config, schedule_expr, priority, enabled, next_run, created_at) VALUES ('$Name', 'training', '{`"epochs`":1}', '0 2 * * *', 6, $enabled, '2025-11-21T02:00:00.000Z', '2025-11-20T14:30:00.123Z')" | Out-Null
    }

    function Format-Value($Value) {
        # Times to the millisecond (what both backends keep), anything else as text.
        if ($Value -is [datetime]) { return $Value.ToString('o') }
        "$Value"
    }

    function New-FilledQueue([string] $Backend) {
        # A queue with jobs in every state, logs and a schedule.
        $db = New-TestDatabase -Backend $Backend
        $jobs = @{}
        $jobs.Done = Submit-TrainingJob -Database $db -Type training -Config @{ epochs = 3; lr = 0.01; tags = @('x', 'y') } -Name 'done' -Priority 9 -Command 'python', 'train.py' -Timeout '00:10:00' -GpuCount 1
        $jobs.Failed = Submit-TrainingJob -Database $db -Type evaluation -Config @{ model = 'm1' } -MaxRetries 0 -Priority 8
        $jobs.Pending = Submit-TrainingJob -Database $db -Type export -Config @{ format = 'onnx' } -NotBefore (Get-Date).AddDays(1)
        $jobs.Cancelled = Submit-TrainingJob -Database $db -Type training -Config @{}
        Receive-TrainingJob -Database $db -WorkerId w1 -Type training | Complete-TrainingJob -ExitCode 0
        Receive-TrainingJob -Database $db -WorkerId w2 -Type evaluation | Complete-TrainingJob -Failed -ErrorMessage 'bad data' -ExitCode 2
        Stop-TrainingJob -Database $db -Id $jobs.Cancelled.JobId
        Write-TrainingJobLog -Database $db -Id $jobs.Done.JobId -Message 'epoch 1'
        Write-TrainingJobLog -Database $db -Id $jobs.Done.JobId -Message 'loss spike' -Level Warning
        Write-TrainingJobLog -Database $db -Id $jobs.Failed.JobId -Message 'bad data' -Level Error
        Add-TestSchedule $db 'nightly'
        @{ Database = $db; Jobs = $jobs }
    }
}

Describe 'Copy-JobQueue from <From> to <To>' -ForEach $pairs {
    It 'copies every job with its id and columns, the logs and the schedules' {
        $source = New-FilledQueue $From
        $destination = New-TestDatabase -Backend $To
        $result = Copy-JobQueue -Database $source.Database -Destination $destination
        $result.Jobs | Should -Be 4
        $result.Logs | Should -Be 3
        $result.Schedules | Should -Be 1
        $result.SourceBackend | Should -Be $From
        $result.DestinationBackend | Should -Be $To

        $before = Get-TrainingJob -Database $source.Database
        $after = Get-TrainingJob -Database $destination
        $after.JobId | Should -Be $before.JobId
        $properties = 'JobId', 'Name', 'JobType', 'Status', 'Priority', 'ConfigJson', 'Command', 'CreatedAt', 'StartedAt', 'CompletedAt',
            'ErrorMessage', 'WorkerId', 'RetryCount', 'MaxRetries', 'ExitCode', 'Timeout', 'GpuCount', 'NotBefore', 'Attempt', 'CancelRequested', 'HostName'
        for ($i = 0; $i -lt $before.Count; $i++) {
            foreach ($p in $properties) {
                Format-Value $after[$i].$p | Should -Be (Format-Value $before[$i].$p) -Because "$p of job $($before[$i].JobId)"
            }
        }
        $done = $source.Jobs.Done.JobId
        (Get-TrainingJobLog -Database $destination -Id $done).Message | Should -Be @('epoch 1', 'loss spike')
        (Get-TrainingJobLog -Database $destination -Id $done -Level Warning).Timestamp |
            Should -Be (Get-TrainingJobLog -Database $source.Database -Id $done -Level Warning).Timestamp
        Invoke-Sql $destination 'SELECT name, schedule_expr, priority FROM schedules' | Should -Be "nightly`t0 2 * * *`t6"

        # New work continues after the copied ids.
        (Submit-TrainingJob -Database $destination -Type training -Config @{}).JobId | Should -BeGreaterThan ($before.JobId | Measure-Object -Maximum).Maximum
        Write-TrainingJobLog -Database $destination -Id $done -Message 'after the move'
        (Get-TrainingJobLog -Database $destination -Id $done -Tail 1).LogId | Should -BeGreaterThan 3
    }

    It 'refuses a destination that has jobs unless -Force, and then replaces them' {
        $source = New-FilledQueue $From
        $destination = New-TestDatabase -Backend $To
        $own = Submit-TrainingJob -Database $destination -Type training -Config @{ mine = $true } -Name 'mine'
        Copy-JobQueue -Database $source.Database -Destination $destination -ErrorAction SilentlyContinue -ErrorVariable refused | Should -BeNullOrEmpty
        $refused[0].FullyQualifiedErrorId | Should -BeLike 'DestinationNotEmpty*'
        $refused[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        (Get-TrainingJob -Database $destination).Name | Should -Be 'mine'

        (Copy-JobQueue -Database $source.Database -Destination $destination -Force).Jobs | Should -Be 4
        (Get-TrainingJob -Database $destination).Count | Should -Be 4
        Get-TrainingJob -Database $destination -Name 'mine' | Should -BeNullOrEmpty
    }

    It 'changes nothing with -WhatIf' {
        $source = New-FilledQueue $From
        $destination = New-TestDatabase -Backend $To
        Copy-JobQueue -Database $source.Database -Destination $destination -WhatIf | Should -BeNullOrEmpty
        if ($To -eq 'SQLite') { Test-Path $destination | Should -BeFalse }
        else { Invoke-Sql $destination "SELECT to_regclass('jobs') IS NULL" | Should -Be 't' }
    }
}

Describe 'Copy-JobQueue refusals' {
    It 'refuses to copy a queue onto itself' {
        $db = New-TestDatabase
        Submit-TrainingJob -Database $db -Type training -Config @{} | Out-Null
        Copy-JobQueue -Database $db -Destination $db -ErrorAction SilentlyContinue -ErrorVariable same
        $same[0].FullyQualifiedErrorId | Should -BeLike 'SameDatabase*'
        (Get-TrainingJob -Database $db).Count | Should -Be 1
    }

    It 'refuses a source file that does not exist, creating nothing' {
        $missing = New-TestDatabase
        $destination = New-TestDatabase
        { Copy-JobQueue -Database $missing -Destination $destination } | Should -Throw -ErrorId 'SourceNotFound*'
        Test-Path $missing | Should -BeFalse
        Test-Path $destination | Should -BeFalse
    }
}

Describe 'Copy-JobQueue help' {
    It 'runs <Title> as written' -ForEach $examples {
        $folder = Split-Path (New-TestDatabase)
        $saved = $env:JOBQUEUE_DATABASE
        Push-Location $folder
        try {
            $env:JOBQUEUE_DATABASE = Join-Path $folder 'queue.db'
            $output = & ([scriptblock]::Create($Code)) 2>&1 3>&1
            @($output | Where-Object { $_ -is [Management.Automation.ErrorRecord] }) | Should -BeNullOrEmpty
            $output | Should -Not -BeNullOrEmpty -Because 'every example shows something'
        }
        finally {
            Pop-Location
            $env:JOBQUEUE_DATABASE = $saved
        }
    }
}
