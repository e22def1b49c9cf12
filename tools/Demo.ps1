#!/usr/bin/env pwsh
<#
.SYNOPSIS
    A real JobQueue session on a fresh temporary SQLite queue, narrated step by step.

.DESCRIPTION
    Run it with `dotnet pwsh ./build.ps1 -Task Demo` (which builds first), or directly after a build.
    It submits jobs (one at a time and a small batch from a CSV file), lists them, claims one as a
    worker would, logs its progress, completes it, lets another fail, retry after a backoff and fail
    for good, restarts it, cancels jobs, shows statistics and takes a backup. Every command shown
    is really run, and its real output is printed. The temporary folder is deleted at the end. The
    exit code is 0 when every step worked, 1 otherwise.

    The session itself runs in a child pwsh (-SessionDatabase), so that the queue's files are
    closed, and can be deleted on every platform, when it ends.

.PARAMETER SessionDatabase
    Internal: the queue the child session uses.
#>
[CmdletBinding()]
param([string] $SessionDatabase)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = Split-Path $PSScriptRoot -Parent

if (-not $SessionDatabase) {
    . (Join-Path $root 'tools/BuildSupport.ps1')
    $folder = Join-Path ([IO.Path]::GetTempPath()) ('jobqueue-demo-' + [guid]::NewGuid().ToString('N').Substring(0, 8))
    $code = 1
    try {
        New-Item -ItemType Directory -Force $folder | Out-Null
        $launcher = Get-PwshLauncher
        & $launcher[0] @(@($launcher | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $PSCommandPath, '-SessionDatabase', (Join-Path $folder 'jobs.db')))
        $code = $LASTEXITCODE
    }
    catch {
        Write-Host "The demo failed: $_" -ForegroundColor Red
    }
    finally {
        Remove-Item -LiteralPath $folder -Recurse -Force -ErrorAction SilentlyContinue
    }
    if (Test-Path -LiteralPath $folder) {
        Write-Host "Could not delete the demo folder $folder" -ForegroundColor Red
        $code = 1
    }
    else {
        Write-Host "Deleted the demo folder $folder."
    }
    exit $code
}

# ---- the session ------------------------------------------------------------------------------

function Step([string] $Title, [string] $Text) {
    Write-Host ''
    Write-Host "=== $Title" -ForegroundColor Cyan
    if ($Text) { Write-Host $Text }
}

function Run([scriptblock] $Command, [switch] $Quiet) {
    # Shows the command as typed, runs it, shows its real output (formatted as PowerShell would)
    # and returns that output.
    Write-Host ''
    Write-Host "PS> $($Command.ToString().Trim())" -ForegroundColor Yellow
    $output = @(& $Command)
    if ($output.Count -and -not $Quiet) { $output | Out-Host }
    $output
}

function Assert-Demo([bool] $Condition, [string] $Message) {
    # The demo checks what it narrates, so a broken module fails it.
    if (-not $Condition) { throw "Demo check failed: $Message" }
}

try {
    Import-Module (Join-Path $root 'JobQueue.psd1')
    $folder = Split-Path $SessionDatabase
    $env:JOBQUEUE_DATABASE = $SessionDatabase

    Step 'A fresh queue' "The queue is an SQLite file in WAL mode. `$env:JOBQUEUE_DATABASE names it, so no command below needs -Database:`n  $SessionDatabase"
    $info = Run { Initialize-JobQueue }
    Assert-Demo ($info.JournalMode -eq 'wal') 'the queue is in WAL mode'

    Step 'Submit jobs' 'Priorities run from 1 (lowest) to 10 (highest); the config is any hashtable, object or JSON text.'
    $bert = Run { Submit-TrainingJob -Type training -Name bert-base -Config @{ learning_rate = 5e-5; batch_size = 4; epochs = 10 } -Priority 7 -MaxRetries 3 }
    $export = Run { Submit-TrainingJob -Type export -Name export-onnx -Config @{ format = 'onnx'; opset = 17 } -Priority 6 -MaxRetries 1 }
    $eval = Run { Submit-TrainingJob -Type evaluation -Name eval-test -Config '{"dataset": "test"}' -Priority 5 }

    Step 'Submit a small batch' 'Each row of a CSV file becomes one job; the rows go in as one batch.'
    $sweep = Join-Path $folder 'sweep.csv'
    Set-Content -LiteralPath $sweep -Value "learning_rate,batch_size`n1e-4,8`n5e-5,16`n1e-5,32"
    Run { Get-Content $sweep } | Out-Null
    $batch = Run { Import-Csv $sweep | Submit-TrainingJob -Type training -Name sweep -Priority 4 }
    Assert-Demo (@($batch).Count -eq 3) 'three CSV rows make three jobs'

    Step 'List the queue' 'Newest first; with -Status Pending, in the order workers will claim them.'
    Run { Get-TrainingJob } | Out-Null
    $pending = Run { Get-TrainingJob -Status Pending | Select-Object JobId, Name, Priority, Config }
    Assert-Demo ($pending[0].JobId -eq $bert.JobId) 'the highest priority job comes first'

    Step 'Claim a job' 'A worker loop of your own claims the next job atomically: highest priority, then oldest.'
    $claimed = Run { Receive-TrainingJob -WorkerId worker-01 }
    Assert-Demo ($claimed.JobId -eq $bert.JobId -and "$($claimed.Status)" -eq 'Running') 'worker-01 claims bert-base'

    Step 'Log progress' 'Inside a job run by a worker, -Id defaults to $env:JOBQUEUE_JOB_ID.'
    Run { Write-TrainingJobLog -Id $claimed.JobId -Message 'Starting training' } | Out-Null
    Run { Write-TrainingJobLog -Id $claimed.JobId -Message 'Epoch 1/10 - loss: 0.45' } | Out-Null
    Run { Write-TrainingJobLog -Id $claimed.JobId -Message 'GPU memory at 85%' -Level Warning } | Out-Null
    $logs = Run { Get-TrainingJobLog -Id $claimed.JobId }
    Assert-Demo (@($logs).Count -eq 3) 'three log lines'

    Step 'Complete it' 'Only the claim that owns a job may complete it. Format-List shows what the guide''s "show" printed.'
    Run { $claimed | Complete-TrainingJob -PassThru | Format-List } | Out-Null
    Assert-Demo ("$((Get-TrainingJob -Id $bert.JobId).Status)" -eq 'Completed') 'bert-base is completed'

    Step 'A failure, retried after a backoff' 'export-onnx may be retried once (MaxRetries 1). Its first attempt fails: back to pending, after a backoff.'
    $attempt1 = Run { Receive-TrainingJob -WorkerId worker-02 -Type export }
    Run { $attempt1 | Complete-TrainingJob -Failed -ErrorMessage 'CUDA out of memory' -ExitCode 1 -RetryDelay 00:00:01 -PassThru | Format-List JobId, Status, RetryCount, MaxRetries, NotBefore, ErrorMessage } | Out-Null
    $none = Run { Receive-TrainingJob -WorkerId worker-02 -Type export }
    Assert-Demo (@($none).Count -eq 0) 'nothing to claim during the backoff'
    Write-Host '(nothing: the job waits out its backoff)'
    Start-Sleep -Milliseconds 1200

    Step 'It fails for good' 'The second attempt fails too; with no retries left the job is failed.'
    $attempt2 = Run { Receive-TrainingJob -WorkerId worker-02 -Type export }
    Assert-Demo ($attempt2.Attempt -eq 2) 'the retry is the second attempt'
    $failed = Run { $attempt2 | Complete-TrainingJob -Failed -ErrorMessage 'CUDA out of memory' -ExitCode 1 -PassThru }
    Assert-Demo ("$($failed.Status)" -eq 'Failed') 'export-onnx failed for good'

    Step 'Restart failed jobs' 'Jobs bind by property name down the pipeline.'
    Run { Get-TrainingJob -Status Failed | Restart-TrainingJob -PassThru } | Out-Null
    Assert-Demo ("$((Get-TrainingJob -Id $export.JobId).Status)" -eq 'Pending') 'export-onnx is pending again'

    Step 'Cancel' 'A pending job is cancelled at once; for a running one the cancel is recorded for its worker. -WhatIf shows what would happen.'
    Run { Get-TrainingJob -Name eval-test | Stop-TrainingJob -WhatIf } | Out-Null
    Run { Get-TrainingJob -Name eval-test | Stop-TrainingJob -PassThru } | Out-Null
    $running = Run { Receive-TrainingJob -WorkerId worker-03 -Type training }
    Run { Stop-TrainingJob -Id $running.JobId -PassThru | Select-Object JobId, Name, Status, CancelRequested } | Out-Null
    Assert-Demo ("$((Get-TrainingJob -Id $eval.JobId).Status)" -eq 'Cancelled') 'eval-test is cancelled'

    Step 'Wait for jobs' 'Wait-TrainingJob returns jobs as they finish (here: already finished).'
    Run { Wait-TrainingJob -Id $bert.JobId, $eval.JobId -Timeout 00:00:30 } | Out-Null

    Step 'Statistics' 'The guide''s "stats", and the same per job type.'
    $stats = Run { Get-JobQueueStatistics }
    Run { (Get-JobQueueStatistics).ByType } | Out-Null
    Assert-Demo ($stats.Total -eq 6 -and $stats.Completed -eq 1 -and $stats.Cancelled -eq 1) 'the statistics add up'

    Step 'Backup' 'An online, consistent copy (workers may keep running); it never overwrites a file without -Force.'
    $backup = Join-Path $folder 'backup.db'
    Run { Backup-JobQueue -Destination $backup } | Out-Null
    $copy = Run { Get-TrainingJob -Database $backup | Measure-Object | Select-Object Count }
    Assert-Demo ($copy.Count -eq 6) 'the backup holds all six jobs'

    Write-Host ''
    Write-Host 'The demo finished: every step above ran for real.' -ForegroundColor Green
    exit 0
}
catch {
    Write-Host ''
    Write-Host "The demo failed: $($_.Exception.Message)" -ForegroundColor Red
    Write-Host $_.ScriptStackTrace
    exit 1
}
