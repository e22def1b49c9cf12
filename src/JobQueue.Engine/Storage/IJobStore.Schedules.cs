namespace JobQueue.Engine.Storage;

/// <summary>
/// Schedules in the store. Firing is the exactly-once point: one write transaction advances the
/// schedule from the NextRun it was read with and inserts the occurrence's job, keyed by
/// (schedule_id, scheduled_for); a pass that lost the race changes nothing.
/// </summary>
public partial interface IJobStore
{
    /// <summary>Adds a schedule; throws DuplicateScheduleName when the name is taken.</summary>
    JobSchedule InsertSchedule(ScheduleDefinition definition, ScheduleState state, DateTimeOffset now);

    JobSchedule? GetSchedule(long scheduleId);

    JobSchedule? GetScheduleByName(string name);

    /// <summary>Schedules ordered by id.</summary>
    IReadOnlyList<JobSchedule> ListSchedules(ScheduleQuery query);

    /// <summary>
    /// Replaces a schedule's definition, and its state when <paramref name="state"/> is given;
    /// throws ScheduleNotFound or DuplicateScheduleName (on a rename).
    /// </summary>
    JobSchedule UpdateSchedule(long scheduleId, ScheduleDefinition definition, ScheduleState? state, DateTimeOffset now);

    /// <summary>Enables or disables a schedule and sets its next run; throws ScheduleNotFound.</summary>
    JobSchedule SetScheduleState(long scheduleId, ScheduleState state, DateTimeOffset now);

    /// <summary>Deletes a schedule; the jobs it created stay, with their ScheduleId. Throws ScheduleNotFound.</summary>
    void RemoveSchedule(long scheduleId);

    /// <summary>Enabled schedules whose next run is at or before <paramref name="now"/>, oldest next run first.</summary>
    IReadOnlyList<DueSchedule> DueSchedules(DateTimeOffset now);

    /// <summary>The earliest next run of an enabled schedule after <paramref name="after"/>, or null.</summary>
    DateTimeOffset? EarliestNextRun(DateTimeOffset after);

    /// <summary>For each schedule: whether one of its jobs is pending or running, and when its last run ended.</summary>
    IReadOnlyDictionary<long, ScheduleActivity> ScheduleActivity(IReadOnlyCollection<long> scheduleIds);

    /// <summary>
    /// Fires several schedules in one write transaction (one commit, one lock, instead of one
    /// per schedule). For each firing: moves the schedule from the next run it was read with to
    /// the new one, then inserts its jobs (each carries ScheduleId and ScheduledFor). The result
    /// has one entry per firing, in order: null, having changed nothing for that schedule, when
    /// it no longer has the next run (another pass fired it, or it was changed); otherwise the
    /// new job ids in order, null for an occurrence that already had its job.
    /// </summary>
    IReadOnlyList<IReadOnlyList<long?>?> FireSchedules(IReadOnlyList<ScheduleFire> fires, DateTimeOffset now);

    /// <summary>
    /// Calls <paramref name="changed"/> (on any thread) when the database may have changed, so a
    /// sleeping scheduler re-reads its schedules; null when the driver cannot tell.
    /// </summary>
    IDisposable? WatchForChanges(Action changed);
}

/// <summary>What a user sets on a schedule.</summary>
public sealed record ScheduleDefinition(
    string Name,
    string JobType,
    string ConfigJson,
    string Expression,
    string TimeZone,
    int Priority,
    int MaxRetries,
    IReadOnlyList<string>? Command,
    TimeSpan? Timeout,
    int GpuCount,
    MisfirePolicy MisfirePolicy,
    OverlapPolicy OverlapPolicy);

/// <summary>Whether a schedule runs, and the next occurrence that will create a job (null while disabled).</summary>
public sealed record ScheduleState(bool Enabled, DateTimeOffset? NextRun);

public sealed record ScheduleQuery
{
    public IReadOnlyList<long>? Ids { get; init; }

    /// <summary>A SQL LIKE pattern (already translated from a wildcard).</summary>
    public string? NameLike { get; init; }

    public bool? Enabled { get; init; }
}

/// <summary>A due schedule with the exact stored values a firing is conditional on.</summary>
public sealed record DueSchedule(JobSchedule Schedule, DateTimeOffset NextRun, DateTimeOffset? UpdatedAt);

public sealed record ScheduleActivity(bool HasActiveRun, DateTimeOffset? LastEndedAt);

/// <summary>One firing: the schedule's expected next run, its new next and last runs, and the jobs to create.</summary>
public sealed record ScheduleFire(
    long ScheduleId,
    DateTimeOffset ExpectedNextRun,
    DateTimeOffset? ExpectedUpdatedAt,
    DateTimeOffset? NextRun,
    DateTimeOffset? LastRun,
    IReadOnlyList<NewJob> Jobs);
