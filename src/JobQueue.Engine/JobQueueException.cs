namespace JobQueue.Engine;

/// <summary>What went wrong, in terms a user can act on. The cmdlet layer maps each kind to a stable error id and category.</summary>
public enum ErrorKind
{
    InvalidArgument,
    InvalidConfig,
    JobNotFound,
    ScheduleNotFound,
    WorkerNotFound,
    InvalidJobState,
    JobNotOwned,
    DuplicateScheduleName,
    InvalidCron,
    InvalidTimeZone,
    DatabaseNotWritable,
    NotAJobQueueDatabase,
    SchemaTooNew,
    DatabaseUnavailable,
    DestinationExists,
    CorruptData,
    Timeout,
}

public sealed class JobQueueException : Exception
{
    public JobQueueException(ErrorKind kind, string message, object? target = null, Exception? inner = null, string? code = null)
        : base(message, inner)
    {
        Kind = kind;
        Target = target;
        Code = code ?? kind.ToString();
    }

    public ErrorKind Kind { get; }

    /// <summary>The stable error id users match on (FullyQualifiedErrorId starts with it).</summary>
    public string Code { get; }

    /// <summary>The object the error is about (a job id, a schedule name, a path).</summary>
    public object? Target { get; }
}
