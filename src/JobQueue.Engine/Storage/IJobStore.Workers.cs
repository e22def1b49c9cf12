namespace JobQueue.Engine.Storage;

/// <summary>What workers, lease rescue and Get-/Stop-JobWorker need from a store.</summary>
public partial interface IJobStore
{
    /// <summary>
    /// Adds or takes over the row of a worker. Refuses (WorkerIdInUse) when another live process
    /// holds the id, because two processes renewing the same id would keep each other's dead jobs alive.
    /// </summary>
    void RegisterWorker(WorkerRegistration registration, DateTimeOffset now);

    /// <summary>
    /// Renews the worker row and the leases of the attempts it holds, in one transaction. Attempts
    /// it no longer holds (rescued, finished elsewhere) come back as lost.
    /// </summary>
    WorkerHeartbeatResult Heartbeat(WorkerHeartbeat heartbeat, DateTimeOffset now);

    /// <summary>The stop flag of a worker and the current state of the given jobs (a cheap read).</summary>
    WorkerPoll Poll(string workerId, IReadOnlyList<long> jobIds);

    IReadOnlyList<JobWorker> ListWorkers(DateTimeOffset now);

    /// <summary>Asks a worker to drain and stop; null when no worker has that id.</summary>
    JobWorker? RequestWorkerStop(string workerId, DateTimeOffset now);

    /// <summary>Records where an attempt runs (devices, trainer process), if the attempt still holds the job.</summary>
    bool RecordJobProcess(JobProcessRecord record);

    /// <summary>What is pending for a worker with these types and this many devices.</summary>
    PendingOutlook PeekPending(IReadOnlyList<string>? types, int maxGpuCount, DateTimeOffset now);

    /// <summary>Running jobs whose lease expired before <paramref name="now"/>, plus all running jobs of <paramref name="releaseWorkerId"/> when given.</summary>
    IReadOnlyList<ExpiredLease> FindExpiredLeases(DateTimeOffset now, int limit, string? releaseWorkerId = null);

    /// <summary>
    /// Fences an expired attempt: moves the job to the rescuer (so the old owner can neither renew
    /// nor finish it) for <paramref name="holdUntil"/>; false when the attempt renewed or moved on.
    /// </summary>
    bool HoldExpiredLease(ExpiredLease lease, string rescuerId, DateTimeOffset holdUntil, DateTimeOffset now, string? releaseWorkerId = null);

    /// <summary>Ends a held rescue: cancelled when a cancel was requested, else pending with a retry spent, else failed.</summary>
    TrainingJob? CompleteRescue(RescueCompletion completion, DateTimeOffset now);

    /// <summary>
    /// Calls <paramref name="changed"/> soon after any process writes to the queue, so idle workers
    /// wake without polling; null when the backend cannot tell.
    /// </summary>
    IDisposable? WatchChanges(Action changed);
}

/// <param name="ReplacesDeadProcessId">
/// The process of a previous worker with this id on this host that the caller found dead: its
/// row may be taken over although its lease has not yet run out (a service restarted at once).
/// </param>
public sealed record WorkerRegistration(
    string WorkerId,
    string HostName,
    int ProcessId,
    IReadOnlyList<int>? Gpus,
    TimeSpan LeaseDuration,
    int? ReplacesDeadProcessId = null);

/// <summary>One attempt a worker holds: a job id and the attempt number of its claim.</summary>
public sealed record JobAttempt(long JobId, int Attempt);

public sealed record WorkerHeartbeat(
    string WorkerId,
    WorkerState State,
    IReadOnlyList<JobAttempt> Attempts,
    DateTimeOffset LeaseExpiresAt,
    long JobsCompleted,
    long JobsFailed);

public sealed record WorkerHeartbeatResult(bool Registered, bool StopRequested, IReadOnlyList<long> LostJobIds);

public sealed record JobRunState(long JobId, JobStatus Status, int Attempt, string? WorkerId, bool CancelRequested);

public sealed record WorkerPoll(bool StopRequested, IReadOnlyList<JobRunState> Jobs);

public sealed record JobProcessRecord(
    long JobId,
    int Attempt,
    string WorkerId,
    IReadOnlyList<int>? Gpus,
    int? ProcessId,
    DateTimeOffset? ProcessStartedAt);

/// <summary>
/// DueNow: a job could be claimed now. NextRetryAt: the earliest pending retry still in its
/// backoff. NextDelayedAt: the earliest first attempt held back by -NotBefore.
/// </summary>
public sealed record PendingOutlook(bool DueNow, DateTimeOffset? NextRetryAt, DateTimeOffset? NextDelayedAt);

public sealed record ExpiredLease(
    long JobId,
    int Attempt,
    string? WorkerId,
    string? HostName,
    int? ProcessId,
    DateTimeOffset? ProcessStartedAt,
    bool CancelRequested,
    int RetryCount,
    int MaxRetries,
    DateTimeOffset? LeaseExpiresAt);

public sealed record RescueCompletion(
    long JobId,
    int Attempt,
    string RescuerId,
    string? PreviousWorkerId,
    string RetryMessage,
    string FailedMessage,
    string CancelledMessage);
