using System.Collections;
using System.Management.Automation;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Engine.Workers;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>
/// Runs jobs from the queue until stopped (Ctrl+C, SIGTERM, Stop-JobWorker), -MaxJobs is reached,
/// or, with -ExitWhenEmpty, nothing is left to run; emits each job as it finishes.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "JobWorker")]
[OutputType(typeof(TrainingJob), typeof(Job))]
public sealed class StartJobWorkerCommand : LongRunningCommand
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(WorkerIdCompleter))]
    public string? WorkerId { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? MaxJobs { get; set; }

    [Parameter]
    [Seconds]
    public TimeSpan PollInterval { get; set; } = WorkerOptions.DefaultPollInterval;

    [Parameter]
    [Alias("JobType")]
    [ArgumentCompleter(typeof(JobTypeCompleter))]
    public string[]? Type { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public int[]? Gpu { get; set; }

    [Parameter]
    [ValidateRange(1, 1024)]
    public int? MaxConcurrent { get; set; }

    [Parameter]
    public Hashtable? Handler { get; set; }

    [Parameter]
    public SwitchParameter ExitWhenEmpty { get; set; }

    [Parameter]
    [Seconds]
    public TimeSpan GracePeriod { get; set; } = WorkerOptions.DefaultGracePeriod;

    [Parameter]
    [Seconds]
    public TimeSpan LeaseDuration { get; set; } = WorkerOptions.DefaultLeaseDuration;

    [Parameter]
    [Seconds]
    public TimeSpan RetryBackoff { get; set; } = RetryPolicy.Default.BaseDelay;

    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void EndProcessing()
    {
        var client = Client;
        var workerId = WorkerId ?? FreeDefaultId(client.Store.Database);
        var scriptHandlers = new List<ScriptBlockJobHandler>();
        var options = Must(() => BuildOptions(client.Store.Database, workerId, scriptHandlers));
        var resources = new HandlerSet(scriptHandlers);

        if (AsJob)
        {
            var events = new WorkerEventQueue();
            var background = new Worker(client, options, events);
            var job = new WorkerPowerShellJob(MyInvocation.Line?.Trim() is { Length: > 0 } line ? line : "Start-JobWorker", workerId,
                background, events, () => background.RunAsync(), resources);
            JobRepository.Add(job);
            job.Start();
            WriteObject(job);
            return;
        }

        using (resources)
        {
            RunInForeground(client, options);
        }
    }

    private void RunInForeground(JobClient client, WorkerOptions options)
    {
        using var events = new WorkerEventQueue();
        var worker = new Worker(client, options, events);
        using var terminate = OnTerminationSignal(worker);
        var stopping = StopToken;
        var run = Task.Run(async () =>
        {
            try
            {
                await worker.RunAsync(stopping).ConfigureAwait(false);
            }
            finally
            {
                events.Complete();
            }
        });

        // Only this (the pipeline) thread writes. When the pipeline stops (Ctrl+C, or a
        // downstream Select-Object -First), the worker still gets to stop its jobs gracefully.
        ExceptionDispatchInfo? pipelineStopped = null;
        foreach (var item in events.Consume())
        {
            if (pipelineStopped is not null) continue;
            try
            {
                if (item.Job is not null) WriteObject(item.Job);
                if (item.Verbose is not null) WriteVerbose(item.Verbose);
                if (item.Warning is not null) WriteWarning(item.Warning);
            }
            catch (PipelineStoppedException ex)
            {
                pipelineStopped = ExceptionDispatchInfo.Capture(ex);
                worker.RequestStop();
            }
        }
        try
        {
            run.GetAwaiter().GetResult();
        }
        catch (JobQueueException ex) when (pipelineStopped is null)
        {
            ThrowTerminatingError(ErrorFactory.From(ex));
        }
        pipelineStopped?.Throw();
    }

    /// <summary>SIGTERM (systemd stop, docker stop, kill) drains the worker instead of ending the process under its jobs.</summary>
    private static IDisposable? OnTerminationSignal(Worker worker)
    {
        try
        {
            return PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                worker.RequestStop();
            });
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or IOException)
        {
            return null;
        }
    }

    private WorkerOptions BuildOptions(string database, string workerId, List<ScriptBlockJobHandler> scriptHandlers)
    {
        var workingDirectory = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        var handlers = new Dictionary<string, JobHandler>(StringComparer.OrdinalIgnoreCase);
        if (Handler is not null)
        {
            foreach (DictionaryEntry entry in Handler)
            {
                var type = Convert.ToString(entry.Key is PSObject k ? k.BaseObject : entry.Key, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                if (type != "*") JobClient.ValidateJobType(type);
                handlers[type] = ToHandler(type, entry.Value, database, workingDirectory, scriptHandlers);
            }
        }
        var options = new WorkerOptions
        {
            WorkerId = workerId,
            Types = Type,
            Gpus = Gpu,
            MaxConcurrent = MaxConcurrent,
            MaxJobs = MaxJobs,
            PollInterval = PollInterval,
            ExitWhenEmpty = ExitWhenEmpty,
            GracePeriod = GracePeriod,
            LeaseDuration = LeaseDuration,
            Handlers = handlers,
            WorkingDirectory = workingDirectory,
            RetryPolicy = RetryBackoff < TimeSpan.Zero
                ? throw new JobQueueException(ErrorKind.InvalidArgument, "RetryBackoff must not be negative.", RetryBackoff, code: "InvalidRetryBackoff")
                : RetryPolicy.Default with { BaseDelay = RetryBackoff },
        };
        options.Validate();
        return options;
    }

    private JobHandler ToHandler(string type, object? value, string database, string workingDirectory, List<ScriptBlockJobHandler> scriptHandlers)
    {
        var raw = value is PSObject ps ? ps.BaseObject : value;
        switch (raw)
        {
            case ScriptBlock block:
                var handler = new ScriptBlockJobHandler(block, ModulePath(), database, workingDirectory);
                scriptHandlers.Add(handler);
                return new CallbackHandler(handler.RunAsync);
            case string program when program.Length > 0:
                return new CommandHandler(new[] { program });
            case IDictionary:
                // A hashtable enumerates DictionaryEntry values, which are no program arguments.
                return Invalid();
            case IEnumerable items:
                var command = new List<string>();
                foreach (var item in items)
                {
                    var part = item is PSObject p ? p.BaseObject : item;
                    if (part is not string && part?.GetType() is not { IsPrimitive: true } && part is not decimal) return Invalid();
                    command.Add(Convert.ToString(part, System.Globalization.CultureInfo.InvariantCulture) ?? "");
                }
                if (command.Count == 0 || command[0].Length == 0) return Invalid();
                return new CommandHandler(command);
            default:
                return Invalid();
        }

        JobHandler Invalid() => throw new JobQueueException(ErrorKind.InvalidArgument,
            $"The handler for '{type}' must be a script block or a command vector such as 'python', 'eval.py'.", type, code: "InvalidHandler");
    }

    private string ModulePath()
    {
        var module = MyInvocation.MyCommand.Module;
        var manifest = module is null ? null : Path.Combine(module.ModuleBase, "JobQueue.psd1");
        if (manifest is not null && File.Exists(manifest)) return manifest;
        // bin/JobQueue.dll sits below the manifest.
        var assemblyFolder = Path.GetDirectoryName(typeof(StartJobWorkerCommand).Assembly.Location)!;
        var candidate = Path.Combine(Path.GetDirectoryName(assemblyFolder)!, "JobQueue.psd1");
        return File.Exists(candidate) ? candidate : typeof(StartJobWorkerCommand).Assembly.Location;
    }

    /// <summary>host-pid, or host-pid-2, -3... when workers of this process already use it (several -AsJob workers).</summary>
    private static string FreeDefaultId(string database)
    {
        var id = JobClient.DefaultWorkerId();
        for (var n = 2; Worker.IsActiveInProcess(database, id); n++) id = $"{JobClient.DefaultWorkerId()}-{n}";
        return id;
    }

    /// <summary>Closes the runspaces of script-block handlers when the worker ends.</summary>
    private sealed class HandlerSet : IDisposable
    {
        private readonly List<ScriptBlockJobHandler> _handlers;

        public HandlerSet(List<ScriptBlockJobHandler> handlers) => _handlers = handlers;

        public void Dispose()
        {
            foreach (var handler in _handlers) handler.Dispose();
        }
    }
}
