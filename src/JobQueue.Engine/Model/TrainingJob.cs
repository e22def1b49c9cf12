using System.Collections;

namespace JobQueue.Engine;

/// <summary>One job of the queue, as a user sees it. Times are local, like file times in PowerShell.</summary>
public sealed class TrainingJob
{
    private IDictionary? _config;

    public long JobId { get; init; }
    public string? Name { get; init; }
    public string JobType { get; init; } = "";
    public JobStatus Status { get; init; }
    public int Priority { get; init; }

    /// <summary>The config with the keys and values that were submitted.</summary>
    public IDictionary Config => _config ??= JobQueue.Engine.ConfigJson.ToDictionary(ConfigJson);

    /// <summary>The config as stored: compact JSON text.</summary>
    public string ConfigJson { get; init; } = "{}";

    public string[]? Command { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? StartedAt { get; init; }
    public DateTime? CompletedAt { get; init; }
    public string? ErrorMessage { get; init; }
    public string? WorkerId { get; init; }
    public int RetryCount { get; init; }
    public int MaxRetries { get; init; }
    public int? ExitCode { get; init; }
    public TimeSpan? Timeout { get; init; }
    public int GpuCount { get; init; }
    public int[]? Gpus { get; init; }
    public long? ScheduleId { get; init; }

    /// <summary>The earliest time the job may be claimed (a retry's backoff, or -NotBefore).</summary>
    public DateTime? NotBefore { get; init; }

    /// <summary>How many times the job has been claimed; a claim owns the job only while this is unchanged.</summary>
    public int Attempt { get; init; }

    public DateTime? LeaseExpiresAt { get; init; }
    public bool CancelRequested { get; init; }
    public DateTime? ScheduledFor { get; init; }
    public string? HostName { get; init; }
    public int? ProcessId { get; init; }

    /// <summary>The database the job lives in, so piped jobs act on the same queue.</summary>
    public string Database { get; init; } = "";

    public override string ToString() => $"{JobId} {JobType} {Status}";
}

public sealed class JobLogEntry
{
    public long LogId { get; init; }
    public long JobId { get; init; }
    public DateTime Timestamp { get; init; }
    public JobLogLevel Level { get; init; }
    public string Message { get; init; } = "";
    public int? Attempt { get; init; }

    public override string ToString() => $"[{Timestamp:yyyy-MM-dd HH:mm:ss}] {Level.ToDb()}: {Message}";
}

public sealed class JobTypeCount
{
    public string JobType { get; init; } = "";
    public long Pending { get; init; }
    public long Running { get; init; }
    public long Completed { get; init; }
    public long Failed { get; init; }
    public long Cancelled { get; init; }
    public long Total => Pending + Running + Completed + Failed + Cancelled;
}

public sealed class JobQueueStatistics
{
    public long Pending { get; init; }
    public long Running { get; init; }
    public long Completed { get; init; }
    public long Failed { get; init; }
    public long Cancelled { get; init; }
    public long Total => Pending + Running + Completed + Failed + Cancelled;
    public JobTypeCount[] ByType { get; init; } = Array.Empty<JobTypeCount>();
    public string Database { get; init; } = "";
}

public sealed class JobQueueInfo
{
    public string Database { get; init; } = "";
    public string Backend { get; init; } = "";
    public int SchemaVersion { get; init; }
    public string JournalMode { get; init; } = "";
    public string Durability { get; init; } = "";
    public long Jobs { get; init; }
    public long Schedules { get; init; }

    /// <summary>PostgreSQL only: the session's synchronous_commit (off for Durability Normal).</summary>
    public string? SynchronousCommit { get; init; }

    /// <summary>PostgreSQL only: the server's version.</summary>
    public string? ServerVersion { get; init; }
}
