using System.Collections;

namespace JobQueue.Engine;

/// <summary>
/// A cron schedule that creates jobs. Times are local, like file times in PowerShell; the cron
/// expression itself is read in <see cref="TimeZone"/> (UTC unless the schedule names another).
/// </summary>
public sealed class JobSchedule
{
    private IDictionary? _config;

    public long ScheduleId { get; init; }
    public string Name { get; init; } = "";
    public string JobType { get; init; } = "";

    /// <summary>The config every job of this schedule gets, with the keys and values that were given.</summary>
    public IDictionary Config => _config ??= JobQueue.Engine.ConfigJson.ToDictionary(ConfigJson);

    /// <summary>The config as stored: compact JSON text.</summary>
    public string ConfigJson { get; init; } = "{}";

    /// <summary>The cron expression: five fields (minute hour day-of-month month day-of-week) or a macro such as @daily.</summary>
    public string Expression { get; init; } = "";

    /// <summary>The IANA (or Windows) id of the zone the expression is read in.</summary>
    public string TimeZone { get; init; } = "UTC";

    public int Priority { get; init; }
    public int MaxRetries { get; init; }
    public bool Enabled { get; init; }

    /// <summary>The next occurrence that will create a job; empty while the schedule is disabled.</summary>
    public DateTime? NextRun { get; init; }

    /// <summary>The occurrence the newest job of this schedule was created for.</summary>
    public DateTime? LastRun { get; init; }

    public DateTime CreatedAt { get; init; }
    public DateTime? UpdatedAt { get; init; }
    public MisfirePolicy MisfirePolicy { get; init; }
    public OverlapPolicy OverlapPolicy { get; init; }
    public string[]? Command { get; init; }
    public TimeSpan? Timeout { get; init; }
    public int GpuCount { get; init; }

    /// <summary>The database the schedule lives in, so piped schedules act on the same queue.</summary>
    public string Database { get; init; } = "";

    public override string ToString() => Name;
}

/// <summary>
/// What a scheduler pass does with occurrences that fell due while no scheduler was running
/// (they are more than <see cref="Scheduling.ScheduleFiring.MisfireThreshold"/> late).
/// Occurrences that are not late always run.
/// </summary>
public enum MisfirePolicy
{
    /// <summary>One catch-up job for the most recent missed occurrence (none when an on-time occurrence runs in the same pass), then the next future occurrence.</summary>
    RunOnce,

    /// <summary>Missed occurrences create no job; the schedule resumes with the next future occurrence.</summary>
    Skip,

    /// <summary>One job per missed occurrence, at most <see cref="Scheduling.ScheduleFiring.RunAllCap"/> (the most recent ones) per pass.</summary>
    RunAll,
}

/// <summary>
/// What happens when an occurrence falls due while a job of the same schedule is still pending
/// or running. With Skip or Queue a pass creates at most one job per schedule, so the runs of
/// such a schedule never overlap (a RunAll catch-up then creates one job, like RunOnce).
/// </summary>
public enum OverlapPolicy
{
    /// <summary>The new job is created anyway; runs may overlap.</summary>
    Allow,

    /// <summary>The occurrence is dropped; the schedule moves on to its next occurrence.</summary>
    Skip,

    /// <summary>
    /// The occurrence waits (NextRun stays where it is) until the previous run has ended; the
    /// first pass after that creates one job, for the most recent occurrence that fell due while
    /// it waited. Waiting occurrences are not misfires: the MisfirePolicy does not drop them.
    /// </summary>
    Queue,
}

internal static class SchedulePolicies
{
    public static MisfirePolicy ParseMisfire(string text) =>
        Enum.TryParse<MisfirePolicy>(text, ignoreCase: true, out var policy) && Enum.IsDefined(policy)
            ? policy
            : throw new JobQueueException(ErrorKind.CorruptData, $"Unknown misfire policy '{text}' in the database.");

    public static OverlapPolicy ParseOverlap(string text) =>
        Enum.TryParse<OverlapPolicy>(text, ignoreCase: true, out var policy) && Enum.IsDefined(policy)
            ? policy
            : throw new JobQueueException(ErrorKind.CorruptData, $"Unknown overlap policy '{text}' in the database.");
}
