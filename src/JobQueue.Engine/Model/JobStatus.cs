namespace JobQueue.Engine;

/// <summary>The life-cycle states of a job, stored lower-case as in the original guide.</summary>
public enum JobStatus
{
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

public enum JobLogLevel
{
    Info,
    Warning,
    Error,
}

internal static class EnumText
{
    public static string ToDb(this JobStatus status) => status switch
    {
        JobStatus.Pending => "pending",
        JobStatus.Running => "running",
        JobStatus.Completed => "completed",
        JobStatus.Failed => "failed",
        JobStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static JobStatus ParseStatus(string text) => text switch
    {
        "pending" => JobStatus.Pending,
        "running" => JobStatus.Running,
        "completed" => JobStatus.Completed,
        "failed" => JobStatus.Failed,
        "cancelled" => JobStatus.Cancelled,
        _ => throw new JobQueueException(ErrorKind.CorruptData, $"Unknown job status '{text}' in the database."),
    };

    public static bool IsTerminal(this JobStatus status) =>
        status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;

    public static string ToDb(this JobLogLevel level) => level switch
    {
        JobLogLevel.Info => "INFO",
        JobLogLevel.Warning => "WARNING",
        JobLogLevel.Error => "ERROR",
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    public static JobLogLevel ParseLevel(string text) => text.ToUpperInvariant() switch
    {
        "WARNING" or "WARN" => JobLogLevel.Warning,
        "ERROR" => JobLogLevel.Error,
        _ => JobLogLevel.Info,
    };

    public static string ToDb(this WorkerState state) => state switch
    {
        WorkerState.Stopping => "stopping",
        WorkerState.Stopped => "stopped",
        _ => "running",
    };

    public static WorkerState ParseWorkerState(string text) => text switch
    {
        "stopping" => WorkerState.Stopping,
        "stopped" => WorkerState.Stopped,
        _ => WorkerState.Running,
    };
}
