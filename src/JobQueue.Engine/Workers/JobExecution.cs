using System.Globalization;
using JobQueue.Engine.Storage;

namespace JobQueue.Engine.Workers;

/// <summary>Why a running job is being stopped; the first reason wins, except that a lost lease always escalates to a kill.</summary>
internal enum StopReason
{
    None,
    Cancelled,
    TimedOut,
    Shutdown,
    LeaseLost,
}

/// <summary>How an attempt ended, before it is recorded: the outcome to record, or nothing when the job was taken over.</summary>
internal sealed record AttemptResult(JobOutcome? Outcome, string? ErrorMessage, int? ExitCode);

/// <summary>
/// One claimed attempt of one job, from start to recorded outcome: what runs, its environment,
/// its output into the job's log, its timeout, and stopping it for a cancel, a timeout, a worker
/// shutdown or a lost lease.
/// </summary>
internal sealed class JobExecution
{
    private readonly WorkerRuntime _runtime;
    private readonly TaskCompletionSource<StopReason> _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _escalate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();

    public JobExecution(WorkerRuntime runtime, TrainingJob job, int[]? gpus)
    {
        _runtime = runtime;
        Job = gpus is null ? job : JobCopy.WithGpus(job, gpus);
        Gpus = gpus;
    }

    public TrainingJob Job { get; }
    public int[]? Gpus { get; }
    public StopReason Reason { get; private set; }
    public JobOutcome? RecordedOutcome { get; private set; }

    /// <summary>The task that runs the attempt; set by the worker when it starts it.</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    public void RequestStop(StopReason reason)
    {
        lock (_gate)
        {
            if (Reason == StopReason.None)
            {
                Reason = reason;
                _stop.TrySetResult(reason);
            }
            else if (reason == StopReason.LeaseLost && Reason != StopReason.LeaseLost)
            {
                Reason = reason;
            }
            if (reason == StopReason.LeaseLost) _escalate.TrySetResult();
        }
    }

    private AttemptIdentity Identity => new(_runtime.Client.Store.Database, Job.JobId, Job.Attempt);

    /// <summary>Runs the attempt and records its outcome; returns the job as recorded, or null when it was not recorded.</summary>
    public async Task<TrainingJob?> RunAsync()
    {
        string? configPath = null;
        AttemptResult result;
        try
        {
            configPath = WriteConfigFile();
            result = await RunCoreAsync(configPath).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            result = new AttemptResult(JobOutcome.Failed, $"The worker could not prepare the job: {ex.Message}", null);
        }
        finally
        {
            if (configPath is not null) TryDelete(configPath);
        }

        // Why an attempt did not succeed belongs in its log too, where a follower looks.
        if (result is { Outcome: not (null or JobOutcome.Succeeded), ErrorMessage: { } why })
        {
            _runtime.Sink.Add(Job.JobId, Job.Attempt, result.Outcome == JobOutcome.Failed ? JobLogLevel.Error : JobLogLevel.Warning, why);
        }
        // The log is complete before the job's state changes, so a follower sees every line.
        _runtime.Sink.Flush(TimeSpan.FromSeconds(30));
        if (Reason == StopReason.LeaseLost || result.Outcome is null)
        {
            _runtime.Observer.Warning($"Job {Job.JobId} (attempt {Job.Attempt}) was taken from worker '{_runtime.WorkerId}' because its lease expired; it was stopped and its outcome not recorded.");
            return null;
        }
        return Record(result);
    }

    /// <summary>The job claimed with this one's completion, which takes over its slot; set by <see cref="RunAsync"/>.</summary>
    public TrainingJob? NextJob { get; private set; }

    private TrainingJob? Record(AttemptResult result)
    {
        var request = new FinishRequest(Job.JobId, result.Outcome!.Value, Job.Attempt, _runtime.WorkerId, result.ErrorMessage, result.ExitCode,
            RetryPolicy: _runtime.Options.RetryPolicy);
        // A success hands its slot straight to the next job: the completion and that claim are one commit.
        var claimNext = result.Outcome == JobOutcome.Succeeded && _runtime.NextClaims.TryReserve();
        try
        {
            return RecordWithRetries(request, claimNext);
        }
        finally
        {
            if (claimNext && NextJob is null) _runtime.NextClaims.Release();
        }
    }

    private TrainingJob? RecordWithRetries(FinishRequest request, bool claimNext)
    {
        var options = _runtime.Options;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                TrainingJob job;
                if (claimNext)
                {
                    var both = _runtime.Client.FinishAndClaim(request, _runtime.WorkerId, options.Types, options.LeaseDuration);
                    (job, NextJob) = (both.Finished, both.Next);
                }
                else
                {
                    job = _runtime.Client.Finish(request);
                }
                RecordedOutcome = request.Outcome;
                return job;
            }
            catch (JobQueueException ex) when (ex.Kind == ErrorKind.DatabaseUnavailable && attempt < 5)
            {
                Thread.Sleep(TimeSpan.FromSeconds(1 + attempt));
            }
            catch (JobQueueException ex) when (ex.Kind is ErrorKind.JobNotOwned or ErrorKind.JobNotFound)
            {
                _runtime.Observer.Warning($"Job {Job.JobId}: the outcome of attempt {Job.Attempt} was not recorded: {ex.Message}");
                return null;
            }
            catch (JobQueueException ex)
            {
                _runtime.Observer.Warning($"Job {Job.JobId}: could not record the outcome of attempt {Job.Attempt} ({ex.Message}); its lease will expire and it will be retried.");
                return null;
            }
        }
    }

    private Task<AttemptResult> RunCoreAsync(string configPath)
    {
        if (Job.Command is { Length: > 0 } command) return RunProcessAsync(command, configPath);
        var handlers = _runtime.Options.Handlers;
        if (handlers.TryGetValue(Job.JobType, out var handler) || handlers.TryGetValue("*", out handler))
        {
            return handler switch
            {
                CommandHandler c => RunProcessAsync(c.Command, configPath),
                CallbackHandler cb => RunCallbackAsync(cb.Callback, configPath),
                _ => Task.FromResult(new AttemptResult(JobOutcome.Failed, "Unknown handler kind.", null)),
            };
        }
        var known = handlers.Count == 0 ? "it has no -Handler" : $"its -Handler covers only {string.Join(", ", handlers.Keys)}";
        return Task.FromResult(new AttemptResult(JobOutcome.Failed,
            $"Job {Job.JobId} has no -Command, and worker '{_runtime.WorkerId}' has no handler for its type '{Job.JobType}' ({known}). Submit it with -Command, or start a worker with -Handler @{{ {Job.JobType} = ... }}.",
            null));
    }

    // ---- a process ----------------------------------------------------------------------------

    private async Task<AttemptResult> RunProcessAsync(IReadOnlyList<string> command, string configPath)
    {
        var workingDirectory = _runtime.Options.WorkingDirectory ?? Environment.CurrentDirectory;
        var launch = ProcessLaunch.Prepare(command, workingDirectory, JobEnvironment(configPath));
        if (launch.Error is not null) return new AttemptResult(JobOutcome.Failed, launch.Error, null);

        System.Diagnostics.Process process;
        bool ownGroup;
        try
        {
            process = ProcessTree.Start(launch.StartInfo!, out ownGroup);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new AttemptResult(JobOutcome.Failed, $"Cannot start '{command[0]}': {ex.Message}", null);
        }

        using (process)
        {
            var pid = process.Id;
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // It exited already.
            }
            RecordProcess(pid, ProcessTree.StartTime(pid));
            var stderrTail = new Queue<string>();
            var pumps = Task.WhenAll(
                Pump(process.StandardOutput, JobLogLevel.Info, null),
                Pump(process.StandardError, JobLogLevel.Warning, stderrTail));
            var exited = process.WaitForExitAsync();
            await WaitForEndOrStopAsync(exited).ConfigureAwait(false);

            if (!exited.IsCompleted)
            {
                if (Reason == StopReason.LeaseLost)
                {
                    ProcessTree.Kill(process, ownGroup, Identity);
                }
                else
                {
                    ProcessTree.Terminate(process, ownGroup, Identity);
                    await Task.WhenAny(exited, Task.Delay(_runtime.Options.GracePeriod), _escalate.Task).ConfigureAwait(false);
                    if (!exited.IsCompleted) ProcessTree.Kill(process, ownGroup, Identity);
                }
                await Task.WhenAny(exited, Task.Delay(TimeSpan.FromSeconds(15))).ConfigureAwait(false);
            }
            await StopLeftoversAsync(pid, ownGroup, graceful: Reason == StopReason.None).ConfigureAwait(false);
            // Output still buffered in the pipes is read to the end; a pipe held open by a
            // process that escaped the tree is given up after a while.
            await Task.WhenAny(pumps, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);

            int? exitCode = process.HasExited ? process.ExitCode : null;
            return Outcome(exitCode, stderrTail);
        }
    }

    private async Task WaitForEndOrStopAsync(Task ended)
    {
        // Task.Delay takes at most ~49 days; a longer timeout is as good as none.
        var timeout = Job.Timeout is { } t && t.TotalMilliseconds < uint.MaxValue - 1 ? Task.Delay(t) : Task.Delay(Timeout.Infinite);
        var first = await Task.WhenAny(ended, _stop.Task, timeout).ConfigureAwait(false);
        if (first == timeout && !ended.IsCompleted) RequestStop(StopReason.TimedOut);
    }

    /// <summary>Children left behind by a trainer that exited (data loaders): asked to stop, then killed.</summary>
    private async Task StopLeftoversAsync(int pid, bool ownGroup, bool graceful)
    {
        // After a normal exit the process group tells (a scan of every process's environment
        // costs too much per job); after a stop, processes that left the group are hunted too.
        var identity = graceful && ownGroup ? null : Identity;
        if (!ProcessTree.HasLeftovers(pid, ownGroup, identity)) return;
        if (graceful)
        {
            ProcessTree.SignalLeftovers(pid, ownGroup, identity, kill: false);
            for (var i = 0; i < 20 && ProcessTree.HasLeftovers(pid, ownGroup, identity); i++)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
        ProcessTree.SignalLeftovers(pid, ownGroup, identity, kill: true);
    }

    private async Task Pump(StreamReader reader, JobLogLevel level, Queue<string>? tail)
    {
        try
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                _runtime.Sink.Add(Job.JobId, Job.Attempt, level, line);
                if (tail is null) continue;
                lock (tail)
                {
                    tail.Enqueue(line);
                    while (tail.Count > StderrTailLines) tail.Dequeue();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The pipe closed under us.
        }
    }

    private const int StderrTailLines = 20;

    private AttemptResult Outcome(int? exitCode, Queue<string> stderrTail)
    {
        string[] tail;
        lock (stderrTail) tail = stderrTail.ToArray();
        var lastLines = tail.Length == 0 ? "" : " Last lines of stderr:" + "\n" + Shorten(string.Join("\n", tail), 2000);
        switch (Reason)
        {
            case StopReason.LeaseLost:
                return new AttemptResult(null, null, exitCode);
            case StopReason.Cancelled:
                return new AttemptResult(JobOutcome.Cancelled, "Cancelled by request; its process tree was stopped.", exitCode);
            case StopReason.TimedOut:
                return new AttemptResult(JobOutcome.Failed, $"Timed out after {Job.Timeout}; its process tree was stopped.{lastLines}", exitCode);
            case StopReason.Shutdown:
                return exitCode == 0
                    ? new AttemptResult(JobOutcome.Succeeded, null, 0)
                    : new AttemptResult(JobOutcome.Interrupted, $"Interrupted: worker '{_runtime.WorkerId}' stopped; the job went back to the queue.", exitCode);
            default:
                return exitCode == 0
                    ? new AttemptResult(JobOutcome.Succeeded, null, 0)
                    : new AttemptResult(JobOutcome.Failed, $"Exited with code {Describe(exitCode)}.{lastLines}", exitCode);
        }
    }

    private static string Describe(int? exitCode)
    {
        if (exitCode is not { } code) return "unknown (the process could not be waited for)";
        if (OperatingSystem.IsWindows() || code <= 128 || code > 128 + 64) return code.ToString(CultureInfo.InvariantCulture);
        var signal = code - 128;
        var name = signal switch
        {
            9 => "SIGKILL; often the out-of-memory killer",
            15 => "SIGTERM",
            6 => "SIGABRT",
            11 => "SIGSEGV",
            2 => "SIGINT",
            _ => $"signal {signal}",
        };
        return $"{code} (killed by {name})";
    }

    // ---- a callback (script block) ----------------------------------------------------------------

    private async Task<AttemptResult> RunCallbackAsync(JobCallback callback, string configPath)
    {
        if (Gpus is { Length: > 0 }) RecordProcess(null, null);
        using var cancel = new CancellationTokenSource();
        var context = new JobRunContext(Job, configPath, (level, message) => _runtime.Sink.Add(Job.JobId, Job.Attempt, level, message));
        var run = Task.Run(() => callback(context, cancel.Token));
        await WaitForEndOrStopAsync(run).ConfigureAwait(false);
        if (!run.IsCompleted)
        {
            cancel.Cancel();
            await Task.WhenAny(run, Task.Delay(_runtime.Options.GracePeriod), _escalate.Task).ConfigureAwait(false);
        }

        JobCallbackResult? outcome = null;
        string? failure = null;
        if (run.IsCompleted)
        {
            try
            {
                outcome = await run.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (Reason != StopReason.None)
            {
            }
            catch (Exception ex)
            {
                failure = ex.Message;
            }
        }
        var stillRunning = run.IsCompleted ? "" : " The handler did not stop within the grace period and was abandoned.";
        switch (Reason)
        {
            case StopReason.LeaseLost:
                return new AttemptResult(null, null, null);
            case StopReason.Cancelled:
                return new AttemptResult(JobOutcome.Cancelled, "Cancelled by request; its handler was stopped." + stillRunning, null);
            case StopReason.TimedOut:
                return new AttemptResult(JobOutcome.Failed, $"Timed out after {Job.Timeout}; its handler was stopped." + stillRunning, null);
            case StopReason.Shutdown when outcome is not { Succeeded: true }:
                return new AttemptResult(JobOutcome.Interrupted, $"Interrupted: worker '{_runtime.WorkerId}' stopped; the job went back to the queue." + stillRunning, null);
        }
        if (failure is not null) return new AttemptResult(JobOutcome.Failed, failure, null);
        if (outcome is null) return new AttemptResult(JobOutcome.Failed, "The handler returned no result.", null);
        return outcome.Succeeded
            ? new AttemptResult(JobOutcome.Succeeded, null, outcome.ExitCode)
            : new AttemptResult(JobOutcome.Failed, outcome.ErrorMessage ?? "The handler failed.", outcome.ExitCode);
    }

    // ---- plumbing -------------------------------------------------------------------------------

    private Dictionary<string, string?> JobEnvironment(string configPath)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            [WorkerEnvironment.JobId] = Job.JobId.ToString(CultureInfo.InvariantCulture),
            [WorkerEnvironment.Database] = _runtime.Client.Store.Database,
            [WorkerEnvironment.Attempt] = Job.Attempt.ToString(CultureInfo.InvariantCulture),
            [WorkerEnvironment.WorkerId] = _runtime.WorkerId,
            [WorkerEnvironment.Config] = configPath,
        };
        // A worker that owns GPUs gives each job only its own devices (none for a CPU job);
        // a worker without -Gpu leaves the variable as it found it (one worker per GPU).
        if (_runtime.Options.Gpus is not null) env[WorkerEnvironment.CudaVisibleDevices] = GpuList.Format(Gpus ?? Array.Empty<int>());
        return env;
    }

    private void RecordProcess(int? pid, DateTimeOffset? startedAt)
    {
        try
        {
            var gpus = Gpus is { Length: > 0 } ? Gpus : null;
            _runtime.Client.Store.RecordJobProcess(new JobProcessRecord(Job.JobId, Job.Attempt, _runtime.WorkerId, gpus, pid, startedAt));
        }
        catch (JobQueueException ex)
        {
            _runtime.Observer.Warning($"Job {Job.JobId}: could not record its process: {ex.Message}");
        }
    }

    private string WriteConfigFile()
    {
        var folder = _runtime.ConfigFolder;
        var path = Path.Combine(folder, $"job-{Job.JobId}-{Job.Attempt}.json");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(Job.ConfigJson);
        }
        return path;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : "..." + text[^(max - 3)..];
}
