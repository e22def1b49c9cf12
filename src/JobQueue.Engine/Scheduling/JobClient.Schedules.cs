using System.Text.RegularExpressions;
using JobQueue.Engine.Scheduling;
using JobQueue.Engine.Storage;

namespace JobQueue.Engine;

/// <summary>Schedules: validation, next-run rules and lookups over the store.</summary>
public sealed partial class JobClient
{
    public const int MaxScheduleNameLength = 128;

    // \z, not $: $ also matches before a final newline, which let "nightly\n" through.
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_.-]{0,127}\z")]
    private static partial Regex ScheduleNamePattern();

    public static void ValidateScheduleName(string? name)
    {
        if (name is null || !ScheduleNamePattern().IsMatch(name))
        {
            throw new JobQueueException(ErrorKind.InvalidArgument,
                $"'{Shorten(name)}' is not a valid schedule name. Use a name that starts with a letter and has up to {MaxScheduleNameLength} letters, digits, '_', '.' or '-', such as 'daily-retrain'.",
                name, code: "InvalidScheduleName");
        }
    }

    /// <summary>
    /// Checks a definition the way New-JobSchedule and Set-JobSchedule need it and returns it
    /// normalized (config as compact JSON, cron blanks collapsed, the zone's stored id), with its
    /// parsed cron.
    /// </summary>
    public static ScheduleDefinition Validate(ScheduleDefinition definition, out CronSchedule cron)
    {
        ValidateScheduleName(definition.Name);
        // An empty vector means no command (Set-JobSchedule -Command @() removes it), not a command without a program.
        var command = definition.Command is { Count: > 0 } given ? given : null;
        Validate(new NewJob(definition.JobType, "{}", definition.Priority, definition.MaxRetries, null,
            command, definition.Timeout, definition.GpuCount));
        if (!Enum.IsDefined(definition.MisfirePolicy) || !Enum.IsDefined(definition.OverlapPolicy))
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, "Unknown misfire or overlap policy.", null);
        }
        cron = CronSchedule.Parse(definition.Expression, definition.TimeZone);
        if (cron.NextAfter(DateTimeOffset.UtcNow) is null)
        {
            throw new JobQueueException(ErrorKind.InvalidCron,
                $"The cron expression '{cron.Expression}' never occurs (such as February 30th); nothing would ever run.", cron.Expression);
        }
        return definition with
        {
            ConfigJson = ConfigJson.NormalizeObject(definition.ConfigJson),
            Expression = cron.Expression,
            TimeZone = cron.ZoneId,
            Command = command,
        };
    }

    /// <summary>The definition of an existing schedule, to change with a `with` expression.</summary>
    public static ScheduleDefinition DefinitionOf(JobSchedule schedule) => new(
        schedule.Name, schedule.JobType, schedule.ConfigJson, schedule.Expression, schedule.TimeZone,
        schedule.Priority, schedule.MaxRetries, schedule.Command, schedule.Timeout, schedule.GpuCount,
        schedule.MisfirePolicy, schedule.OverlapPolicy);

    /// <summary>
    /// Adds a schedule. Its first run is the first occurrence at or after <paramref name="startAt"/>
    /// (default: now); a disabled schedule has no next run until it is enabled.
    /// </summary>
    public JobSchedule CreateSchedule(ScheduleDefinition definition, bool enabled = true, DateTimeOffset? startAt = null)
    {
        var normalized = Validate(definition, out var cron);
        var state = enabled ? new ScheduleState(true, cron.NextOnOrAfter(startAt ?? Clock.UtcNow)) : new ScheduleState(false, null);
        return Store.InsertSchedule(normalized, state, Clock.UtcNow);
    }

    public JobSchedule GetSchedule(long scheduleId) => Store.GetSchedule(scheduleId) ?? throw ScheduleNotFound(scheduleId);

    public JobSchedule GetSchedule(string name) => Store.GetScheduleByName(name) ?? throw ScheduleNotFound(name);

    /// <summary>
    /// Changes a schedule. When it is enabled and its expression or zone changed (or
    /// <paramref name="startAt"/> is given), its next run is computed again from now (or startAt).
    /// </summary>
    public JobSchedule UpdateSchedule(JobSchedule current, ScheduleDefinition changed, DateTimeOffset? startAt = null)
    {
        var normalized = Validate(changed, out var cron);
        var retimed = startAt is not null
            || !string.Equals(normalized.Expression, current.Expression, StringComparison.Ordinal)
            || !string.Equals(normalized.TimeZone, current.TimeZone, StringComparison.Ordinal);
        ScheduleState? state = current.Enabled && retimed
            ? new ScheduleState(true, cron.NextOnOrAfter(startAt ?? Clock.UtcNow))
            : null;
        return Store.UpdateSchedule(current.ScheduleId, normalized, state, Clock.UtcNow);
    }

    /// <summary>
    /// Enables a schedule with its next run computed from now (or <paramref name="startAt"/>), so
    /// occurrences from while it was disabled never run. An enabled schedule is left as it is
    /// unless startAt is given.
    /// </summary>
    public JobSchedule EnableSchedule(JobSchedule current, DateTimeOffset? startAt = null)
    {
        if (current.Enabled && startAt is null) return current;
        var cron = CronSchedule.Parse(current.Expression, current.TimeZone);
        return Store.SetScheduleState(current.ScheduleId, new ScheduleState(true, cron.NextOnOrAfter(startAt ?? Clock.UtcNow)), Clock.UtcNow);
    }

    /// <summary>Disables a schedule; it keeps its definition but has no next run.</summary>
    public JobSchedule DisableSchedule(JobSchedule current) =>
        current.Enabled ? Store.SetScheduleState(current.ScheduleId, new ScheduleState(false, null), Clock.UtcNow) : current;

    public void RemoveSchedule(long scheduleId) => Store.RemoveSchedule(scheduleId);

    public static JobQueueException ScheduleNotFound(long scheduleId) =>
        new(ErrorKind.ScheduleNotFound, $"No schedule with id {scheduleId} exists in this queue.", scheduleId);

    public static JobQueueException ScheduleNotFound(string name) =>
        new(ErrorKind.ScheduleNotFound, $"No schedule named '{Shorten(name)}' exists in this queue. See Get-JobSchedule.", name);
}
