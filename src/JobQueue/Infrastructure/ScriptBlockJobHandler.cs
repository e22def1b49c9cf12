using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using JobQueue.Engine;
using JobQueue.Engine.Workers;

namespace JobQueue.Infrastructure;

/// <summary>
/// Runs a -Handler script block for a job in a runspace of the worker (never on the caller's
/// pipeline thread): the job is in $Job and the first argument, the module is imported, JobQueue
/// cmdlets default to the worker's database and Write-TrainingJobLog to the job. Output lines
/// become INFO log lines, warnings WARNING, errors ERROR; a terminating error (throw) fails the
/// job, and so does a native command's non-zero $LASTEXITCODE left at the end. Runspaces are
/// reused between jobs (each job runs in a new local scope).
/// </summary>
internal sealed class ScriptBlockJobHandler : IDisposable
{
    // One invocation per job: the handler itself is compiled once per runspace (at creation).
    private const string Wrapper = """
        param($Job, $WorkingDirectory)
        if ($PWD.ProviderPath -ne $WorkingDirectory) { Set-Location -LiteralPath $WorkingDirectory }
        $global:Job = $Job
        $global:PSDefaultParameterValues['Write-TrainingJobLog:Id'] = $Job.JobId
        $global:LASTEXITCODE = 0
        & $global:__JobQueueHandler $Job | Out-String -Stream
        """;

    private readonly string _script;
    private readonly string _modulePath;
    private readonly string _database;
    private readonly string _workingDirectory;
    private readonly ConcurrentBag<Runspace> _idle = new();
    private bool _disposed;

    public ScriptBlockJobHandler(ScriptBlock block, string modulePath, string database, string workingDirectory)
    {
        // A script block belongs to the runspace that made it: each runspace compiles its own copy.
        _script = block.ToString();
        _modulePath = modulePath;
        _database = database;
        _workingDirectory = workingDirectory;
    }

    public Task<JobCallbackResult> RunAsync(JobRunContext context, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Run(context, cancellationToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private JobCallbackResult Run(JobRunContext context, CancellationToken cancellationToken)
    {
        var runspace = Rent();
        var reusable = false;
        try
        {
            using var ps = PowerShell.Create();
            ps.Runspace = runspace;
            ps.AddScript(Wrapper, useLocalScope: true).AddArgument(context.Job).AddArgument(_workingDirectory);

            var output = new PSDataCollection<PSObject>();
            output.DataAdded += (_, _) =>
            {
                foreach (var item in output.ReadAll()) context.LogInfo(item?.ToString() ?? "");
            };
            ps.Streams.Error.DataAdded += (_, e) => context.LogError(ps.Streams.Error[e.Index].ToString());
            ps.Streams.Warning.DataAdded += (_, e) => context.LogWarning(ps.Streams.Warning[e.Index].Message);
            ps.Streams.Information.DataAdded += (_, e) => context.LogInfo(ps.Streams.Information[e.Index].MessageData?.ToString() ?? "");

            using (cancellationToken.Register(() => ps.BeginStop(null, null)))
            {
                try
                {
                    ps.Invoke(null, output);
                }
                catch (Exception ex) when (ex is PipelineStoppedException || cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("The handler was stopped.", ex, cancellationToken);
                }
                catch (RuntimeException ex)
                {
                    reusable = true;
                    return JobCallbackResult.Failure(ex.ErrorRecord?.ToString() ?? ex.Message);
                }
            }
            if (ps.InvocationStateInfo.State == PSInvocationState.Stopped)
            {
                throw new OperationCanceledException("The handler was stopped.", cancellationToken);
            }
            reusable = true;
            if (runspace.SessionStateProxy.GetVariable("LASTEXITCODE") is int code && code != 0)
            {
                return JobCallbackResult.Failure($"The handler's last native command exited with code {code}.", code);
            }
            return JobCallbackResult.Success;
        }
        finally
        {
            Return(runspace, reusable);
        }
    }

    private Runspace Rent()
    {
        while (_idle.TryTake(out var idle))
        {
            if (idle.RunspaceStateInfo.State == RunspaceState.Opened) return idle;
            idle.Dispose();
        }
        var state = InitialSessionState.CreateDefault2();
        state.ImportPSModule(new[] { _modulePath });
        state.ThreadOptions = PSThreadOptions.ReuseThread;
        var runspace = RunspaceFactory.CreateRunspace(state);
        runspace.Open();
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        // Every JobQueue cmdlet in the handler talks to the worker's queue unless told otherwise.
        ps.AddScript("""
            param($Database, $Handler)
            foreach ($name in (Get-Command -Module JobQueue).Name) { $global:PSDefaultParameterValues["${name}:Database"] = $Database }
            $global:__JobQueueHandler = [scriptblock]::Create($Handler)
            """).AddArgument(_database).AddArgument(_script);
        ps.Invoke();
        return runspace;
    }

    private void Return(Runspace runspace, bool reusable)
    {
        if (reusable && !_disposed && runspace.RunspaceStateInfo.State == RunspaceState.Opened)
        {
            _idle.Add(runspace);
        }
        else
        {
            runspace.Dispose();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var runspace)) runspace.Dispose();
    }
}
