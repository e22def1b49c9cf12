using JobQueue.Engine.Storage;

namespace JobQueue.Engine;

/// <summary>The job a fresh insert made (its config already normalized), built without reading it back (batches of thousands stay fast).</summary>
public static class NewJobView
{
    /// <summary>The creation time as the store keeps it (millisecond precision), as a local time.</summary>
    public static DateTime StoredLocalTime(DateTimeOffset time) =>
        new DateTime(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerMillisecond, DateTimeKind.Utc).ToLocalTime();

    public static TrainingJob ToJob(NewJob job, long id, DateTime createdAtLocal, string database) => new()
    {
        JobId = id,
        Name = job.Name,
        JobType = job.JobType,
        Status = JobStatus.Pending,
        Priority = job.Priority,
        ConfigJson = job.ConfigJson,
        Command = job.Command?.ToArray(),
        CreatedAt = createdAtLocal,
        MaxRetries = job.MaxRetries,
        Timeout = job.Timeout,
        GpuCount = job.GpuCount,
        ScheduleId = job.ScheduleId,
        NotBefore = job.NotBefore?.LocalDateTime,
        ScheduledFor = job.ScheduledFor?.LocalDateTime,
        Database = database,
    };
}
