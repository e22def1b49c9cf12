using JobQueue.Engine.Storage;

namespace JobQueue.Engine;

/// <summary>The job a fresh insert made (its config already normalized), built without reading it back (batches of thousands stay fast).</summary>
public static class NewJobView
{
    public static TrainingJob ToJob(NewJob job, long id, DateTimeOffset createdAt, string database) => new()
    {
        JobId = id,
        Name = job.Name,
        JobType = job.JobType,
        Status = JobStatus.Pending,
        Priority = job.Priority,
        ConfigJson = job.ConfigJson,
        Command = job.Command?.ToArray(),
        CreatedAt = Timestamps.ParseUtc(Timestamps.ToText(createdAt)).ToLocalTime(),
        MaxRetries = job.MaxRetries,
        Timeout = job.Timeout,
        GpuCount = job.GpuCount,
        ScheduleId = job.ScheduleId,
        NotBefore = job.NotBefore?.LocalDateTime,
        ScheduledFor = job.ScheduledFor?.LocalDateTime,
        Database = database,
    };
}
