using System.Management.Automation;
using JobQueue.Engine;

namespace JobQueue.Infrastructure;

/// <summary>One place that turns failures into error records with stable ids and the right category.</summary>
internal static class ErrorFactory
{
    public static ErrorRecord From(JobQueueException ex) =>
        new(ex, ex.Code, Category(ex.Kind), ex.Target);

    public static ErrorRecord Create(string errorId, ErrorCategory category, string message, object? target) =>
        new(new JobQueueException(ErrorKind.InvalidArgument, message, target), errorId, category, target);

    public static ErrorCategory Category(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument or ErrorKind.InvalidCron or ErrorKind.InvalidTimeZone => ErrorCategory.InvalidArgument,
        ErrorKind.InvalidConfig or ErrorKind.NotAJobQueueDatabase or ErrorKind.SchemaTooNew or ErrorKind.CorruptData => ErrorCategory.InvalidData,
        ErrorKind.JobNotFound or ErrorKind.ScheduleNotFound or ErrorKind.WorkerNotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.InvalidJobState or ErrorKind.JobNotOwned => ErrorCategory.InvalidOperation,
        ErrorKind.DuplicateScheduleName or ErrorKind.DestinationExists => ErrorCategory.ResourceExists,
        ErrorKind.DatabaseNotWritable => ErrorCategory.WriteError,
        ErrorKind.DatabaseUnavailable => ErrorCategory.ResourceUnavailable,
        ErrorKind.Timeout => ErrorCategory.OperationTimeout,
        _ => ErrorCategory.NotSpecified,
    };
}
