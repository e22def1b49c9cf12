using System.Runtime.ExceptionServices;
using JobQueue.Engine.Maintenance;
using JobQueue.Engine.Storage;

namespace JobQueue.Engine.Workers;

/// <summary>
/// Claims jobs and runs them until it is stopped: one claim loop (woken by database changes,
/// finished jobs and a bounded poll), a slot handed from a job that succeeded straight to the
/// next (its completion claims that job in the same transaction), a heartbeat that renews its
/// row and the leases of the attempts it holds, and a lease rescue pass for jobs of dead workers. Stopping (a token, a
/// signal, Stop-JobWorker) claims nothing more, signals running jobs, waits the grace period,
/// kills what is left and returns interrupted jobs to the queue without spending a retry.
/// </summary>
public sealed class Worker : INextClaims
{
    private static readonly TimeSpan MinWakeSpacing = TimeSpan.FromMilliseconds(10);

    // Workers of this process by database and id: the store's check cannot tell two workers of
    // one process apart (same host, same pid).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Worker> Active = new(StringComparer.Ordinal);

    private readonly JobClient _client;
    private readonly WorkerOptions _options;
    private readonly IWorkerObserver _observer;
    private readonly Dictionary<long, JobExecution> _running = new();
    private readonly object _gate = new();
    private readonly GpuPool? _gpus;
    // Kernel events, waited on by dedicated threads: an idle worker wakes only for a database
    // change, a finished job, a stop, or its timers (no thread-pool hops, which spin on wake-up).
    private readonly AutoResetEvent _databaseChanged = new(false);
    private readonly AutoResetEvent _wake = new(false);
    private readonly ManualResetEvent _backgroundStop = new(false);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _hostName = Environment.MachineName;
    private WorkerRuntime? _runtime;
    private long _completed;
    private long _failed;
    // Claims made or reserved (-MaxJobs), and whether jobs may still start; both under _gate.
    private int _claimed;
    private bool _accepting = true;
    private string? _lastWarning;
    private DateTime _lastWarningAt;

    public Worker(JobClient client, WorkerOptions options, IWorkerObserver? observer = null)
    {
        options.Validate();
        _client = client;
        _options = options;
        _observer = observer ?? NullObserver.Instance;
        if (options.Gpus is not null) _gpus = new GpuPool(options.Gpus);
    }

    public string WorkerId => _options.WorkerId;

    public bool IsStopRequested => _stop.IsCancellationRequested;

    /// <summary>Drain and stop: claim nothing more, stop running jobs gracefully. Safe from any thread, any number of times.</summary>
    public void RequestStop()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        _wake.Set();
    }

    /// <summary>Runs until stopped, -MaxJobs is reached or, with -ExitWhenEmpty, the queue is drained.</summary>
    public Task RunAsync(CancellationToken cancellationToken = default)
    {
        var store = _client.Store;
        var key = ActiveKey(store.Database, WorkerId);
        // The id is reserved before the caller gets the task.
        if (!Active.TryAdd(key, this))
        {
            return Task.FromException(new JobQueueException(ErrorKind.InvalidArgument,
                $"The worker id '{WorkerId}' is in use by another worker of this process. Choose another -WorkerId.", WorkerId, code: "WorkerIdInUse"));
        }
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using var link = cancellationToken.Register(RequestStop);
                RunRegistered();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
            finally
            {
                Active.TryRemove(key, out _);
            }
        })
        {
            IsBackground = true,
            Name = $"JobQueue worker {WorkerId}",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>Whether a worker of this process runs with this id on this database (for picking a free default id).</summary>
    public static bool IsActiveInProcess(string database, string workerId) => Active.ContainsKey(ActiveKey(database, workerId));

    private static string ActiveKey(string database, string workerId) => database + "\n" + workerId;

    private void RunRegistered()
    {
        var store = _client.Store;
        store.RegisterWorker(new WorkerRegistration(WorkerId, _hostName, Environment.ProcessId, _options.Gpus, _options.LeaseDuration,
            DeadPredecessor(store)), _client.Clock.UtcNow);
        _observer.Verbose($"Worker '{WorkerId}' started on '{_hostName}' (process {Environment.ProcessId}) for {store.Database}; " +
            $"up to {_options.EffectiveMaxConcurrent} job(s) at once" + (_options.Gpus is { } g ? $" on GPUs {GpuList.Format(g)}" : "") + ".");

        using var sink = new JobLogSink(store, _observer.Warning);
        _runtime = new WorkerRuntime(_client, _options, _observer, sink, WorkerRuntime.CreateConfigFolder(WorkerId), this);
        using var watch = store.WatchChanges(OnDatabaseChanged);
        if (watch is null) _observer.Verbose($"No change notifications from this database; looking for jobs every {_options.PollInterval}.");

        var background = new Thread(BackgroundLoop) { IsBackground = true, Name = $"JobQueue heartbeat {WorkerId}" };
        background.Start();
        ExceptionDispatchInfo? failure = null;
        try
        {
            // Jobs still marked as ours were left by a previous process with this id: take them back first.
            Rescue(releaseOwnJobs: true);
            ClaimLoop();
        }
        catch (Exception ex)
        {
            failure = ExceptionDispatchInfo.Capture(ex);
            RequestStop();
        }
        finally
        {
            StopRunningJobs();
            _backgroundStop.Set();
            background.Join();
            TryStore(() => store.Heartbeat(Beat(WorkerState.Stopped), _client.Clock.UtcNow));
            _observer.Verbose($"Worker '{WorkerId}' stopped: {_completed} job(s) completed, {_failed} failed.");
        }
        failure?.Throw();
    }

    /// <summary>
    /// A previous worker with this id on this host whose process is gone (killed, crashed): a
    /// service restarted at once may take over its row before its lease runs out.
    /// </summary>
    private int? DeadPredecessor(IJobStore store)
    {
        var previous = store.ListWorkers(_client.Clock.UtcNow).FirstOrDefault(w => w.WorkerId == WorkerId);
        if (previous is null || previous.ProcessId == Environment.ProcessId
            || !string.Equals(previous.HostName, _hostName, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        // Gone, or the pid now belongs to a process that started after the worker did.
        var started = ProcessTree.StartTime(previous.ProcessId);
        var gone = !ProcessTree.IsAlive(previous.ProcessId)
            || (started is { } s && s.UtcDateTime > previous.StartedAt.ToUniversalTime() + TimeSpan.FromSeconds(1));
        return gone ? previous.ProcessId : null;
    }

    private void OnDatabaseChanged()
    {
        _databaseChanged.Set();
    }

    // ---- claiming ------------------------------------------------------------------------------

    private void ClaimLoop()
    {
        var store = _client.Store;
        var lastPass = DateTime.MinValue;
        var lastPoll = DateTime.MinValue;
        var queueLooksEmpty = false;
        while (!_stop.IsCancellationRequested)
        {
            lastPass = DateTime.UtcNow;

            var (running, ids) = Snapshot();
            // The stop flag and the running jobs' cancel requests: read at most every 250 ms
            // while jobs run (a drain of short jobs passes here twice per job).
            var pollDue = running == 0 || DateTime.UtcNow - lastPoll >= TimeSpan.FromMilliseconds(250);
            if (pollDue && TryStore(() => store.Poll(WorkerId, ids)) is { } poll)
            {
                lastPoll = DateTime.UtcNow;
                if (poll.StopRequested)
                {
                    _observer.Verbose($"Worker '{WorkerId}' was asked to stop (Stop-JobWorker).");
                    RequestStop();
                    break;
                }
                ApplyJobStates(ids, poll.Jobs);
            }

            bool maxJobsReached;
            lock (_gate) maxJobsReached = MaxJobsReached;
            if (maxJobsReached && running == 0) break;
            var mayClaim = !maxJobsReached && running < _options.EffectiveMaxConcurrent;
            var wait = running > 0 ? Min(_options.CancelCheckInterval, _options.PollInterval) : _options.PollInterval;
            if (mayClaim)
            {
                // On a timer an idle worker first looks (a read): claiming takes the write lock,
                // which costs more than it finds on an empty queue. Woken by a change it claims
                // at once: the claim waits for the writer's lock, so it sees the commit that
                // woke it even when the wake-up came before the commit was complete.
                var gpusOwned = _gpus?.Total ?? int.MaxValue;
                var now = _client.Clock.UtcNow;
                var outlook = queueLooksEmpty ? TryStore(() => store.PeekPending(_options.Types, gpusOwned, now)) : null;
                if (outlook is null or { DueNow: true })
                {
                    var claimed = TryStore(ClaimReserved);
                    if (claimed?.Job is { } job)
                    {
                        queueLooksEmpty = false;
                        Start(job);
                        continue;
                    }
                    queueLooksEmpty = true;
                    now = _client.Clock.UtcNow;
                    outlook = TryStore(() => store.PeekPending(_options.Types, gpusOwned, now));
                    // Another worker took the job we saw: look again at once (not after a failed
                    // claim, such as a read-only database, which would fail again at once).
                    if (claimed is not null && outlook is { DueNow: true } && running == 0) continue;
                }
                if (outlook is not null)
                {
                    if (_options.ExitWhenEmpty && running == 0 && !outlook.DueNow && outlook.NextRetryAt is null)
                    {
                        _observer.Verbose("No more jobs to run; the worker stops (-ExitWhenEmpty).");
                        break;
                    }
                    foreach (var due in new[] { outlook.NextRetryAt, outlook.NextDelayedAt })
                    {
                        if (due is { } at) wait = Min(wait, at - now + TimeSpan.FromMilliseconds(10));
                    }
                }
            }
            // A worker with no free slot ignores other processes' commits (a busy queue makes many);
            // it still looks for cancel requests every CancelCheckInterval.
            var events = mayClaim ? new WaitHandle[] { _wake, _databaseChanged } : new WaitHandle[] { _wake };
            var signalled = WaitHandle.WaitAny(events, Clamp(wait));
            if (signalled == 1) queueLooksEmpty = false;
            // Commits of other processes (or a chatty trainer's log) wake the loop at most every
            // 10 ms; a finished job or a stop request is acted on at once.
            var spacing = MinWakeSpacing - (DateTime.UtcNow - lastPass);
            if (signalled == 1 && spacing > TimeSpan.Zero && !_stop.IsCancellationRequested) _wake.WaitOne(spacing);
        }
    }

    /// <summary>A claim counted against -MaxJobs before it is made (a finishing job may claim at the same time).</summary>
    private ClaimResult ClaimReserved()
    {
        if (!Reserve()) return new ClaimResult(null);
        TrainingJob? job = null;
        try
        {
            job = _client.Claim(WorkerId, _options.Types, _options.LeaseDuration, _gpus?.Free ?? int.MaxValue);
            return new ClaimResult(job);
        }
        finally
        {
            if (job is null) ((INextClaims)this).Release();
        }
    }

    private bool MaxJobsReached => _options.MaxJobs is { } max && _claimed >= max;

    // A finishing job claims its successor only where the claim loop alone hands out GPUs.
    bool INextClaims.TryReserve() => _gpus is null && Reserve();

    private bool Reserve()
    {
        lock (_gate)
        {
            if (!_accepting || _stop.IsCancellationRequested || MaxJobsReached) return false;
            _claimed++;
            return true;
        }
    }

    void INextClaims.Release() => Release();

    private void Release()
    {
        lock (_gate) _claimed--;
    }

    private static TimeSpan Clamp(TimeSpan wait) =>
        wait < TimeSpan.Zero ? TimeSpan.Zero : wait > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : wait;

    private void ApplyJobStates(long[] polled, IReadOnlyList<JobRunState> states)
    {
        List<JobExecution> executions;
        lock (_gate) executions = _running.Values.ToList();
        foreach (var execution in executions)
        {
            // A job that a finished one handed its slot to after the poll was not asked about.
            if (Array.IndexOf(polled, execution.Job.JobId) < 0) continue;
            var state = states.FirstOrDefault(s => s.JobId == execution.Job.JobId);
            if (state is null || state.Status != JobStatus.Running || state.Attempt != execution.Job.Attempt
                || !string.Equals(state.WorkerId, WorkerId, StringComparison.Ordinal))
            {
                // Removed, rescued or finished elsewhere: this attempt no longer owns the job.
                if (execution.RecordedOutcome is null && execution.Reason != StopReason.LeaseLost && !execution.Completion.IsCompleted)
                {
                    execution.RequestStop(StopReason.LeaseLost);
                }
            }
            else if (state.CancelRequested && execution.Reason == StopReason.None)
            {
                _observer.Verbose($"Job {execution.Job.JobId}: cancel requested; stopping it.");
                execution.RequestStop(StopReason.Cancelled);
            }
        }
    }

    /// <summary>Starts a claimed job; one handed over by a finished job is refused (false) once the worker is stopping.</summary>
    private bool Start(TrainingJob job, bool handedOver = false)
    {
        int[]? gpus = null;
        if (_gpus is not null)
        {
            // The claim asked for at most the free count, and only this loop takes devices.
            gpus = _gpus.Take(job.GpuCount) ?? throw new InvalidOperationException($"Job {job.JobId} was claimed without {job.GpuCount} free GPUs.");
        }
        var execution = new JobExecution(_runtime!, job, gpus);
        var run = new Task<Task>(RunToEnd);
        execution.Completion = run.Unwrap();
        lock (_gate)
        {
            // Under the lock that StopRunningJobs takes to see what runs: a job started here is stopped there.
            if (handedOver && (!_accepting || _stop.IsCancellationRequested)) return false;
            _running[job.JobId] = execution;
        }
        _observer.Verbose($"Job {job.JobId} ({job.JobType}, attempt {job.Attempt}) started" + (gpus is { Length: > 0 } ? $" on GPUs {GpuList.Format(gpus)}." : "."));
        run.Start(TaskScheduler.Default);
        return true;

        async Task RunToEnd()
        {
            try
            {
                var finished = await execution.RunAsync().ConfigureAwait(false);
                if (execution.RecordedOutcome == JobOutcome.Succeeded) Interlocked.Increment(ref _completed);
                if (execution.RecordedOutcome == JobOutcome.Failed) Interlocked.Increment(ref _failed);
                if (finished is not null) _observer.JobFinished(finished);
            }
            catch (Exception ex)
            {
                _observer.Warning($"Job {job.JobId}: the worker failed while running it: {ex.Message}");
            }
            finally
            {
                // The job claimed with this one's completion takes over the slot before it is given up.
                if (execution.NextJob is { } next) StartNext(next);
                lock (_gate) _running.Remove(job.JobId);
                if (gpus is not null) _gpus!.Return(gpus);
                _wake.Set();
            }
        }
    }

    /// <summary>
    /// Starts the job that a finished job's completion claimed, unless the worker is stopping:
    /// then the job goes back to the queue at once, without spending a retry.
    /// </summary>
    private void StartNext(TrainingJob next)
    {
        if (Start(next, handedOver: true)) return;
        ((INextClaims)this).Release();
        try
        {
            _client.Finish(new FinishRequest(next.JobId, JobOutcome.Interrupted, next.Attempt, WorkerId,
                $"Interrupted: worker '{WorkerId}' stopped before the job started; the job went back to the queue."));
            _observer.Verbose($"Job {next.JobId} went back to the queue: the worker is stopping.");
        }
        catch (JobQueueException ex)
        {
            // Its lease runs out and a rescue pass gives it back (a restarted worker with this id takes it back at once).
            _observer.Warning($"Job {next.JobId}: claimed as the worker stopped, and could not be given back ({ex.Message}); its lease will expire and it will be retried.");
        }
    }

    private void StopRunningJobs()
    {
        List<JobExecution> executions;
        lock (_gate)
        {
            _accepting = false;
            executions = _running.Values.ToList();
        }
        if (executions.Count == 0) return;
        _observer.Verbose($"Stopping {executions.Count} running job(s); they get {_options.GracePeriod} to exit before they are killed.");
        TryStore(() => _client.Store.Heartbeat(Beat(WorkerState.Stopping), _client.Clock.UtcNow));
        foreach (var execution in executions) execution.RequestStop(StopReason.Shutdown);
        // Each execution escalates to a kill after the grace period; the margin covers recording.
        Task.WaitAll(executions.Select(e => e.Completion).ToArray(), _options.GracePeriod + TimeSpan.FromSeconds(60));
    }

    // ---- heartbeat and rescue ------------------------------------------------------------------

    /// <summary>Heartbeats (renewing leases) and rescue passes, each on its own interval, until the worker ends.</summary>
    private void BackgroundLoop()
    {
        var nextBeat = DateTime.UtcNow + _options.HeartbeatInterval;
        var nextRescue = DateTime.UtcNow + _options.RescueInterval;
        while (true)
        {
            var now = DateTime.UtcNow;
            var next = nextBeat < nextRescue ? nextBeat : nextRescue;
            if (next > now && _backgroundStop.WaitOne(next - now)) return;
            now = DateTime.UtcNow;
            if (now >= nextBeat)
            {
                nextBeat = now + _options.HeartbeatInterval;
                Heartbeat();
            }
            if (now >= nextRescue)
            {
                nextRescue = now + _options.RescueInterval;
                Rescue(releaseOwnJobs: false);
            }
        }
    }

    private void Heartbeat()
    {
        var state = _stop.IsCancellationRequested ? WorkerState.Stopping : WorkerState.Running;
        var result = TryStore(() => _client.Store.Heartbeat(Beat(state), _client.Clock.UtcNow));
        if (result is null) return;
        if (!result.Registered)
        {
            TryStore<object>(() =>
            {
                _client.Store.RegisterWorker(new WorkerRegistration(WorkerId, _hostName, Environment.ProcessId, _options.Gpus, _options.LeaseDuration), _client.Clock.UtcNow);
                return this;
            });
        }
        if (result.StopRequested && !_stop.IsCancellationRequested)
        {
            _observer.Verbose($"Worker '{WorkerId}' was asked to stop (Stop-JobWorker).");
            RequestStop();
        }
        foreach (var lost in result.LostJobIds)
        {
            JobExecution? execution;
            lock (_gate) _running.TryGetValue(lost, out execution);
            if (execution is { RecordedOutcome: null } && !execution.Completion.IsCompleted) execution.RequestStop(StopReason.LeaseLost);
        }
    }

    private WorkerHeartbeat Beat(WorkerState state)
    {
        List<JobAttempt> attempts;
        lock (_gate) attempts = _running.Values.Select(e => new JobAttempt(e.Job.JobId, e.Job.Attempt)).ToList();
        return new WorkerHeartbeat(WorkerId, state, attempts, _client.Clock.UtcNow + _options.LeaseDuration,
            Interlocked.Read(ref _completed), Interlocked.Read(ref _failed));
    }

    private void Rescue(bool releaseOwnJobs)
    {
        var rescued = TryStore(() => new LeaseRescue(_client, WorkerId).RunOnce(releaseOwnJobs ? WorkerId : null));
        if (rescued is null) return;
        foreach (var r in rescued)
        {
            _observer.Verbose($"Job {r.Job.JobId} rescued from worker '{r.PreviousWorkerId}': now {r.Job.Status.ToDb()}" +
                (r.StoppedProcesses > 0 ? $"; stopped {r.StoppedProcesses} orphaned process(es)." : "."));
        }
        if (rescued.Count > 0) _databaseChanged.Set();
        // Processes of attempts rescued elsewhere (from another host) while this host's worker was dead.
        var orphans = TryStore(() => new LeaseRescue(_client, WorkerId).StopLocalOrphans());
        foreach (var (jobId, attempt, processes) in orphans ?? Array.Empty<(long, int, int)>())
        {
            _observer.Warning($"Stopped {processes} leftover process(es) of job {jobId}, attempt {attempt}, which no longer holds the job.");
        }
    }

    // ---- plumbing ------------------------------------------------------------------------------

    private (int Count, long[] Ids) Snapshot()
    {
        lock (_gate) return (_running.Count, _running.Keys.ToArray());
    }

    /// <summary>Runs a store call; a database problem becomes a (rate-limited) warning and the worker carries on.</summary>
    private T? TryStore<T>(Func<T> action) where T : class?
    {
        try
        {
            return action();
        }
        catch (JobQueueException ex) when (ex.Kind is ErrorKind.DatabaseUnavailable or ErrorKind.DatabaseNotWritable or ErrorKind.CorruptData)
        {
            var now = DateTime.UtcNow;
            if (ex.Message != _lastWarning || now - _lastWarningAt > TimeSpan.FromMinutes(1))
            {
                _lastWarning = ex.Message;
                _lastWarningAt = now;
                _observer.Warning($"Worker '{WorkerId}': {ex.Message} (will retry)");
            }
            return default;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>A claim that went through, with or without a job (null from TryStore means it failed).</summary>
    private sealed record ClaimResult(TrainingJob? Job);

    private sealed class NullObserver : IWorkerObserver
    {
        public static readonly NullObserver Instance = new();

        public void JobFinished(TrainingJob job)
        {
        }

        public void Verbose(string message)
        {
        }

        public void Warning(string message)
        {
        }
    }
}
