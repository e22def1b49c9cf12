# Runs help examples in this (fresh) pwsh: each in a new runspace with the module imported, in
# an empty temporary current folder, with $env:JOBQUEUE_DATABASE set to a new database. Writes
# one result per example to -ResultsPath as JSON. Started by Invoke-HelpExample (Help.Helpers.ps1).
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ExamplesPath,
    [Parameter(Mandatory)] [string] $ResultsPath,
    [int] $TimeoutSeconds = 60
)
$ErrorActionPreference = 'Stop'
$examples = @(Get-Content -LiteralPath $ExamplesPath -Raw | ConvertFrom-Json)
$scratch = Join-Path ([IO.Path]::GetTempPath()) ("jq-help-" + [guid]::NewGuid().ToString('N').Substring(0, 12))

function Save-JobQueueEnvironment {
    $saved = @{}
    foreach ($entry in [Environment]::GetEnvironmentVariables().GetEnumerator()) {
        if ($entry.Key -like 'JOBQUEUE_*') { $saved[$entry.Key] = $entry.Value }
    }
    $saved
}

function Restore-JobQueueEnvironment([hashtable] $Saved) {
    # Examples may set variables a worker would set (JOBQUEUE_JOB_ID); none leaks into the next.
    foreach ($entry in [Environment]::GetEnvironmentVariables().GetEnumerator()) {
        if ($entry.Key -like 'JOBQUEUE_*' -and -not $Saved.ContainsKey($entry.Key)) { [Environment]::SetEnvironmentVariable($entry.Key, $null) }
    }
    foreach ($key in $Saved.Keys) { [Environment]::SetEnvironmentVariable($key, $Saved[$key]) }
}

$results = foreach ($example in $examples) {
    $folder = Join-Path $scratch "example-$($example.Number)"
    $work = Join-Path $folder 'work'
    New-Item -ItemType Directory -Force $work | Out-Null
    $saved = Save-JobQueueEnvironment
    $env:JOBQUEUE_DATABASE = Join-Path $folder 'jobs.db'
    $iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
    $iss.ImportPSModule([string[]]@($ModulePath))
    $runspace = [runspacefactory]::CreateRunspace($iss)
    $ps = $null
    $collected = $null
    $errors = [Collections.Generic.List[string]]::new()
    $output = ''
    $clock = [Diagnostics.Stopwatch]::StartNew()
    try {
        $runspace.Open()
        $runspace.SessionStateProxy.Path.SetLocation($work) | Out-Null
        $ps = [powershell]::Create($runspace)
        # Through Out-String, so the module's format views are exercised as a user would see them.
        $null = $ps.AddScript($example.Code).AddCommand('Out-String').AddParameter('Stream').AddParameter('Width', 160)
        $noInput = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $noInput.Complete()
        $collected = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $async = $ps.BeginInvoke($noInput, $collected)
        if ($async.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($TimeoutSeconds))) {
            $null = $ps.EndInvoke($async)
        }
        else {
            $errors.Add("did not finish within $TimeoutSeconds s (an example that cannot end on its own is marked no-run)")
            $stop = $ps.BeginStop($null, $null)
            $null = $stop.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds(10))
        }
    }
    catch {
        $inner = $_.Exception
        while ($inner.InnerException) { $inner = $inner.InnerException }
        $record = if ($inner -is [System.Management.Automation.IContainsErrorRecord]) { $inner.ErrorRecord }
        $errors.Add("terminating error: $(if ($record) { "$($record.FullyQualifiedErrorId): " })$($inner.Message)")
    }
    finally {
        $clock.Stop()
        # Partial output too: what an example printed before it failed helps to see why.
        if ($collected) { $output = @($collected) -join "`n" }
        if ($ps) {
            foreach ($record in $ps.Streams.Error) { $errors.Add("error: $($record.FullyQualifiedErrorId): $($record.Exception.Message)") }
            $ps.Dispose()
        }
        $runspace.Dispose()
        Restore-JobQueueEnvironment $saved
    }
    [pscustomobject]@{
        Number  = $example.Number
        Passed  = $errors.Count -eq 0
        Errors  = @($errors)
        Output  = $output
        Seconds = [Math]::Round($clock.Elapsed.TotalSeconds, 2)
    }
}
ConvertTo-Json -InputObject @($results) -Depth 4 | Set-Content -LiteralPath $ResultsPath -Encoding utf8
Remove-Item -Recurse -Force $scratch -ErrorAction Ignore
