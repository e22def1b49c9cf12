namespace JobQueue.Engine.Workers;

/// <summary>What every execution of one worker shares.</summary>
internal sealed class WorkerRuntime
{
    public WorkerRuntime(JobClient client, WorkerOptions options, IWorkerObserver observer, JobLogSink sink, string configFolder, INextClaims nextClaims)
    {
        Client = client;
        Options = options;
        Observer = observer;
        Sink = sink;
        ConfigFolder = configFolder;
        NextClaims = nextClaims;
    }

    public JobClient Client { get; }
    public WorkerOptions Options { get; }
    public IWorkerObserver Observer { get; }
    public JobLogSink Sink { get; }

    /// <summary>An owner-only folder for the jobs' JOBQUEUE_CONFIG files (configs may hold secrets).</summary>
    public string ConfigFolder { get; }

    public string WorkerId => Options.WorkerId;

    /// <summary>Whether a succeeding job's completion may claim the next job for its slot.</summary>
    public INextClaims NextClaims { get; }

    public static string CreateConfigFolder(string workerId)
    {
        var safe = new string(workerId.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        var user = new string(Environment.UserName.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());
        var root = Path.Combine(Path.GetTempPath(), $"jobqueue-{user}");
        var folder = Path.Combine(root, safe);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Directory.CreateDirectory(root, ownerOnly);
            Directory.CreateDirectory(folder, ownerOnly);
        }
        return folder;
    }
}

/// <summary>
/// The worker's count of claims, as seen by an execution: a completion that claims the next job
/// reserves that claim first (the worker may be stopping or at -MaxJobs), and gives the
/// reservation back when nothing was claimed.
/// </summary>
internal interface INextClaims
{
    bool TryReserve();

    void Release();
}

/// <summary>Hands out a worker's GPU devices; only the claim loop takes, so a claim sized to Free always fits.</summary>
internal sealed class GpuPool
{
    private readonly SortedSet<int> _free;
    private readonly object _gate = new();

    public GpuPool(IEnumerable<int> devices)
    {
        _free = new SortedSet<int>(devices);
        Total = _free.Count;
    }

    public int Total { get; }

    public int Free
    {
        get
        {
            lock (_gate) return _free.Count;
        }
    }

    public int[]? Take(int count)
    {
        lock (_gate)
        {
            if (count > _free.Count) return null;
            var taken = _free.Take(count).ToArray();
            foreach (var device in taken) _free.Remove(device);
            return taken;
        }
    }

    public void Return(IEnumerable<int> devices)
    {
        lock (_gate)
        {
            foreach (var device in devices) _free.Add(device);
        }
    }
}

/// <summary>A copy of a job with the devices the worker gave it.</summary>
internal static class JobCopy
{
    public static TrainingJob WithGpus(TrainingJob j, int[] gpus) => new()
    {
        JobId = j.JobId,
        Name = j.Name,
        JobType = j.JobType,
        Status = j.Status,
        Priority = j.Priority,
        ConfigJson = j.ConfigJson,
        Command = j.Command,
        CreatedAt = j.CreatedAt,
        StartedAt = j.StartedAt,
        CompletedAt = j.CompletedAt,
        ErrorMessage = j.ErrorMessage,
        WorkerId = j.WorkerId,
        RetryCount = j.RetryCount,
        MaxRetries = j.MaxRetries,
        ExitCode = j.ExitCode,
        Timeout = j.Timeout,
        GpuCount = j.GpuCount,
        Gpus = gpus,
        ScheduleId = j.ScheduleId,
        NotBefore = j.NotBefore,
        Attempt = j.Attempt,
        LeaseExpiresAt = j.LeaseExpiresAt,
        CancelRequested = j.CancelRequested,
        ScheduledFor = j.ScheduledFor,
        HostName = j.HostName,
        ProcessId = j.ProcessId,
        Database = j.Database,
    };
}
