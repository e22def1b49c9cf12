namespace JobQueue.Engine.Storage;

/// <summary>
/// The seam between the engine and a database. Each driver owns all of its SQL.
/// Every change to a claimed job is conditional on the attempt that owns it.
/// </summary>
public partial interface IJobStore : IDisposable
{
    /// <summary>How the user named the database (a path or a connection string without secrets).</summary>
    string Database { get; }

    string Backend { get; }

    JobQueueInfo Describe();

    void SetDurability(Durability durability);

    long Insert(NewJob job, DateTimeOffset now);

    /// <summary>Inserts all jobs in one transaction and returns their ids in order.</summary>
    IReadOnlyList<long> InsertBatch(IReadOnlyList<NewJob> jobs, DateTimeOffset now);

    TrainingJob? Get(long jobId);

    IReadOnlyList<TrainingJob> List(JobQuery query);

    /// <summary>Atomically claims the next pending job (highest priority, then oldest) or returns null.</summary>
    TrainingJob? Claim(ClaimRequest request, DateTimeOffset now);

    /// <summary>Records the outcome of the attempt that owns the job.</summary>
    TrainingJob Finish(FinishRequest request, DateTimeOffset now);

    /// <summary>
    /// Records a success and claims the next job in the same write transaction (a worker's slot
    /// going from one job to the next). Any other outcome, or an attempt that no longer owns the
    /// job, is recorded (or refused) as <see cref="Finish"/> does, and nothing is claimed. The
    /// request's worker is the claiming worker.
    /// </summary>
    FinishedAndNext FinishAndClaim(FinishRequest request, ClaimRequest next, DateTimeOffset now);

    /// <summary>Cancels a pending job, or records a cancel request for a running one.</summary>
    TrainingJob Cancel(long jobId, DateTimeOffset now);

    /// <summary>Puts a failed or cancelled job back to pending.</summary>
    TrainingJob Restart(long jobId, DateTimeOffset now);

    /// <summary>Deletes one job that is not running, with its logs.</summary>
    void Remove(long jobId);

    /// <summary>Deletes jobs in the given terminal states that ended before <paramref name="cutoff"/>; returns the count.</summary>
    int RemoveFinished(IReadOnlyCollection<JobStatus> statuses, DateTimeOffset cutoff);

    /// <summary>Extends the leases of the running attempts that the worker owns.</summary>
    int RenewLeases(string workerId, DateTimeOffset leaseExpiresAt);

    JobQueueStatistics Statistics(string? jobType);

    long AddLog(long jobId, JobLogLevel level, string message, DateTimeOffset now, int? attempt = null);

    void AddLogs(IReadOnlyList<NewLogEntry> entries);

    IReadOnlyList<JobLogEntry> GetLogs(LogQuery query);

    void Backup(string destinationPath);

    /// <summary>Ids of the newest jobs whose id starts with <paramref name="prefix"/>, for tab completion.</summary>
    IReadOnlyList<TrainingJob> CompletionCandidates(string prefix, int limit);
}

public enum Durability
{
    /// <summary>WAL with synchronous=NORMAL: safe against process crashes; a power loss may lose the last commits.</summary>
    Normal,

    /// <summary>WAL with synchronous=FULL: every commit is on disk before it returns.</summary>
    Full,
}

public sealed record NewJob(
    string JobType,
    string ConfigJson,
    int Priority = 5,
    int MaxRetries = 3,
    string? Name = null,
    IReadOnlyList<string>? Command = null,
    TimeSpan? Timeout = null,
    int GpuCount = 0,
    DateTimeOffset? NotBefore = null,
    long? ScheduleId = null,
    DateTimeOffset? ScheduledFor = null);

public sealed record JobQuery
{
    public IReadOnlyList<long>? Ids { get; init; }
    public IReadOnlyList<JobStatus>? Statuses { get; init; }
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>A SQL LIKE pattern (already translated from a wildcard).</summary>
    public string? NameLike { get; init; }

    public string? WorkerId { get; init; }
    public long? ScheduleId { get; init; }
    public int? First { get; init; }

    /// <summary>When set, jobs come highest priority first, then oldest (the claim order).</summary>
    public bool QueueOrder { get; init; }
}

public sealed record ClaimRequest(
    string WorkerId,
    TimeSpan Lease,
    IReadOnlyList<string>? Types = null,
    int MaxGpuCount = int.MaxValue,
    string? HostName = null);

public enum JobOutcome
{
    Succeeded,
    Failed,
    /// <summary>The attempt was stopped because its worker is shutting down: back to pending, no retry spent.</summary>
    Interrupted,
    /// <summary>The attempt was stopped because a cancel was requested.</summary>
    Cancelled,
}

public sealed record FinishRequest(
    long JobId,
    JobOutcome Outcome,
    int? Attempt = null,
    string? WorkerId = null,
    string? ErrorMessage = null,
    int? ExitCode = null,
    /// <summary>When the job fails with retries left, the delay before the next attempt.</summary>
    TimeSpan? RetryDelay = null,
    RetryPolicy? RetryPolicy = null);

/// <summary>The job as recorded, and the job claimed with it (null when none was due or none was asked for).</summary>
public sealed record FinishedAndNext(TrainingJob Finished, TrainingJob? Next);

public sealed record NewLogEntry(long JobId, JobLogLevel Level, string Message, DateTimeOffset Timestamp, int? Attempt = null);

public sealed record LogQuery(long JobId)
{
    public IReadOnlyList<JobLogLevel>? Levels { get; init; }
    public int? Tail { get; init; }
    public long AfterLogId { get; init; }
}
