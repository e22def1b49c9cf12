namespace JobQueue.Engine.Workers;

/// <summary>How a worker runs; the cmdlet's parameters, validated by <see cref="Validate"/>.</summary>
public sealed class WorkerOptions
{
    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultLeaseDuration = TimeSpan.FromSeconds(60);

    public string WorkerId { get; init; } = JobClient.DefaultWorkerId();

    /// <summary>Job types to claim; null or empty: all.</summary>
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>The GPU devices this worker owns and hands out; null: it does not manage GPUs.</summary>
    public IReadOnlyList<int>? Gpus { get; init; }

    /// <summary>Jobs run at once; default 1, or one per GPU with -Gpu.</summary>
    public int? MaxConcurrent { get; init; }

    /// <summary>Stop after claiming this many jobs (and finishing them).</summary>
    public int? MaxJobs { get; init; }

    /// <summary>The longest an idle worker sleeps before it looks at the queue again (changes wake it sooner).</summary>
    public TimeSpan PollInterval { get; init; } = DefaultPollInterval;

    /// <summary>Stop when nothing runs and no job it could run is pending (retries in backoff are waited for).</summary>
    public bool ExitWhenEmpty { get; init; }

    /// <summary>How long a stopped job's process tree gets between the graceful signal and the kill.</summary>
    public TimeSpan GracePeriod { get; init; } = DefaultGracePeriod;

    /// <summary>How long a claim holds without a heartbeat; heartbeats come four times per lease.</summary>
    public TimeSpan LeaseDuration { get; init; } = DefaultLeaseDuration;

    /// <summary>What runs a job that has no command of its own, by job type ("*" for any type).</summary>
    public IReadOnlyDictionary<string, JobHandler> Handlers { get; init; } = new Dictionary<string, JobHandler>();

    /// <summary>The working directory of the jobs' processes; default: the current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Backoff between the attempts of a failing job; default: the client's policy.</summary>
    public RetryPolicy? RetryPolicy { get; init; }

    /// <summary>How often running jobs are checked for cancel requests when no change wakes the worker.</summary>
    public TimeSpan CancelCheckInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public int EffectiveMaxConcurrent => MaxConcurrent ?? Math.Max(1, Gpus?.Count ?? 1);

    public TimeSpan HeartbeatInterval => TimeSpan.FromTicks(Math.Max(LeaseDuration.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks));

    public TimeSpan RescueInterval => TimeSpan.FromTicks(Math.Clamp(LeaseDuration.Ticks / 2, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromSeconds(30).Ticks));

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(WorkerId) || WorkerId.Length > 200)
        {
            throw Invalid("The worker id must be 1 to 200 characters, not only blanks.", WorkerId, "InvalidWorkerId");
        }
        if (WorkerId.Contains('\0'))
        {
            // Jobs' processes get the id in JOBQUEUE_WORKER_ID, and no environment variable can hold a NUL.
            throw Invalid("The worker id must not contain a NUL character: the jobs' processes get it in JOBQUEUE_WORKER_ID, which cannot hold one.", null, "InvalidWorkerId");
        }
        // Checked here, before the worker registers: text that cannot be stored exactly must not reach the workers table.
        TextRules.Validate(WorkerId, "worker id");
        if (Types is not null)
        {
            foreach (var type in Types) JobClient.ValidateJobType(type);
        }
        if (Gpus is not null)
        {
            if (Gpus.Count == 0) throw Invalid("-Gpu needs at least one device number.", null, "InvalidGpu");
            if (Gpus.Any(g => g < 0)) throw Invalid("GPU device numbers must not be negative.", string.Join(",", Gpus), "InvalidGpu");
            if (Gpus.Distinct().Count() != Gpus.Count) throw Invalid("Each GPU device may be given once.", string.Join(",", Gpus), "InvalidGpu");
        }
        if (MaxConcurrent is < 1 or > 1024) throw Invalid("MaxConcurrent must be 1 to 1024.", MaxConcurrent, "InvalidMaxConcurrent");
        if (MaxJobs is < 1) throw Invalid("MaxJobs must be at least 1.", MaxJobs, "InvalidMaxJobs");
        if (PollInterval <= TimeSpan.Zero || PollInterval > TimeSpan.FromHours(1))
        {
            throw Invalid("PollInterval must be more than zero and at most one hour.", PollInterval, "InvalidPollInterval");
        }
        if (GracePeriod < TimeSpan.Zero || GracePeriod > TimeSpan.FromHours(24))
        {
            throw Invalid("GracePeriod must be zero to 24 hours.", GracePeriod, "InvalidGracePeriod");
        }
        if (LeaseDuration < TimeSpan.FromSeconds(1) || LeaseDuration > TimeSpan.FromHours(24))
        {
            throw Invalid("LeaseDuration must be one second to 24 hours.", LeaseDuration, "InvalidLeaseDuration");
        }
        foreach (var (type, handler) in Handlers)
        {
            if (type != "*") JobClient.ValidateJobType(type);
            if (handler is CommandHandler { Command.Count: 0 } || handler is CommandHandler c && string.IsNullOrEmpty(c.Command[0]))
            {
                throw Invalid($"The handler for '{type}' must start with the program to run.", type, "InvalidHandler");
            }
        }
    }

    private static JobQueueException Invalid(string message, object? target, string code) =>
        new(ErrorKind.InvalidArgument, message, target, code: code);
}

/// <summary>What runs a job of a type that has no command of its own.</summary>
public abstract class JobHandler
{
}

/// <summary>A program and its arguments, started without a shell, with the job's environment.</summary>
public sealed class CommandHandler : JobHandler
{
    public CommandHandler(IReadOnlyList<string> command) => Command = command;

    public IReadOnlyList<string> Command { get; }
}

/// <summary>Code of the host (the cmdlet layer runs script blocks this way).</summary>
public sealed class CallbackHandler : JobHandler
{
    public CallbackHandler(JobCallback callback) => Callback = callback;

    public JobCallback Callback { get; }
}

/// <summary>Runs one job in the host; cancelled when the job is cancelled, times out or the worker stops.</summary>
public delegate Task<JobCallbackResult> JobCallback(JobRunContext context, CancellationToken cancellationToken);

/// <summary>What a callback learns about its job, and where its output goes.</summary>
public sealed class JobRunContext
{
    private readonly Action<JobLogLevel, string> _log;

    internal JobRunContext(TrainingJob job, string configPath, Action<JobLogLevel, string> log)
    {
        Job = job;
        ConfigPath = configPath;
        _log = log;
    }

    /// <summary>The claimed job, with the devices given to it in Gpus.</summary>
    public TrainingJob Job { get; }

    public string ConfigPath { get; }

    public void LogInfo(string message) => _log(JobLogLevel.Info, message);

    public void LogWarning(string message) => _log(JobLogLevel.Warning, message);

    public void LogError(string message) => _log(JobLogLevel.Error, message);
}

/// <summary>A callback's outcome: success, or failure with a message and an optional exit code.</summary>
public sealed class JobCallbackResult
{
    public static readonly JobCallbackResult Success = new(true, null, null);

    private JobCallbackResult(bool succeeded, string? errorMessage, int? exitCode)
    {
        Succeeded = succeeded;
        ErrorMessage = errorMessage;
        ExitCode = exitCode;
    }

    public bool Succeeded { get; }
    public string? ErrorMessage { get; }
    public int? ExitCode { get; }

    public static JobCallbackResult Failure(string message, int? exitCode = null) => new(false, message, exitCode);
}

/// <summary>How a worker reports to its host; called from worker threads, so the host must queue what it shows.</summary>
public interface IWorkerObserver
{
    void JobFinished(TrainingJob job);

    void Verbose(string message);

    void Warning(string message);
}
