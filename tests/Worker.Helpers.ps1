# Helpers of the worker suites: fake trainers, process checks, waiting. Dot-source after TestHelpers.ps1.

function New-FakeTrainer {
    # Writes an executable /bin/sh script (a stand-in for "python train.py") and returns its path.
    # The body gets the test's folder as $1 and the job's JOBQUEUE_* variables.
    param([Parameter(Mandatory)] [string] $Folder, [Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string] $Body)
    $path = Join-Path $Folder "$Name.sh"
    [IO.File]::WriteAllText($path, "#!/bin/sh`n" + ($Body -replace "`r`n", "`n") + "`n")
    [IO.File]::SetUnixFileMode($path, [IO.UnixFileMode]'UserRead, UserWrite, UserExecute')
    $path
}

function New-HangOnceTrainer {
    # A trainer whose first attempt writes its pid to $1/<PidFile> and hangs until killed; later
    # attempts append "attempt N" to $1/completions.txt and exit 0.
    param([Parameter(Mandatory)] [string] $Folder, [Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [string] $PidFile)
    New-FakeTrainer $Folder $Name @"
if [ "`$JOBQUEUE_ATTEMPT" = "1" ]; then
  echo `$`$ > "`$1/$PidFile"
  while :; do sleep 0.1; done
else
  echo "attempt `$JOBQUEUE_ATTEMPT" >> "`$1/completions.txt"
fi
"@
}

function Test-ProcessAlive {
    # True while the process exists and is not a zombie (an orphan waiting for init to reap it is dead).
    param([Parameter(Mandatory)] [int] $Id)
    $stat = "/proc/$Id/stat"
    if (-not (Test-Path $stat)) { return $false }
    try { $text = [IO.File]::ReadAllText($stat) } catch { return $false }
    $state = $text.Substring($text.LastIndexOf(')') + 2, 1)
    $state -notin 'Z', 'X'
}

function Wait-Until {
    # Polls until the condition holds; fails the test with -Because after -TimeoutSeconds (generous: shared CI machines are slow).
    param([Parameter(Mandatory)] [scriptblock] $Condition, [double] $TimeoutSeconds = 60, [string] $Because = 'the condition')
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSeconds s waiting for $Because." }
        Start-Sleep -Milliseconds 50
    }
}

function Read-Pid {
    # The pid a fake trainer wrote into a file, once the file is complete.
    param([Parameter(Mandatory)] [string] $Path, [double] $TimeoutSeconds = 60)
    Wait-Until { (Test-Path $Path) -and ((Get-Content $Path -Raw) -match '^\d+\s*$') } -TimeoutSeconds $TimeoutSeconds -Because "pid file $Path"
    [int](Get-Content $Path -Raw).Trim()
}

function Invoke-TestWorker {
    # Runs Start-JobWorker as a PowerShell job of this process and returns the jobs it emitted.
    # A worker still running after -TimeoutSeconds is stopped and the test fails (never hangs).
    param([Parameter(Mandatory)] [hashtable] $Parameters, [int] $TimeoutSeconds = 120)
    $job = Start-JobWorker @Parameters -AsJob
    try {
        if (-not (Wait-Job $job -Timeout $TimeoutSeconds)) {
            Stop-Job $job
            throw "The worker did not finish within $TimeoutSeconds s."
        }
        Receive-Job $job -ErrorAction Stop -WarningAction SilentlyContinue
    } finally {
        Remove-Job $job -Force
    }
}

function Send-Signal {
    # Sends a POSIX signal (TERM, KILL) to a process.
    param([Parameter(Mandatory)] [int] $Id, [Parameter(Mandatory)] [string] $Signal)
    & /bin/kill "-$Signal" $Id
}

function Get-Percentile {
    param([double[]] $Values, [double] $Percent)
    $sorted = @($Values | Sort-Object)
    if ($sorted.Count -eq 0) { return [double]::NaN }
    $index = [Math]::Min($sorted.Count - 1, [Math]::Max(0, [int][Math]::Ceiling($Percent / 100 * $sorted.Count) - 1))
    $sorted[$index]
}
