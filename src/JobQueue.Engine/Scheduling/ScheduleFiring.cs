using JobQueue.Engine.Storage;

namespace JobQueue.Engine.Scheduling;

/// <summary>What one pass did with one due schedule.</summary>
public sealed class ScheduleOutcome
{
    public required JobSchedule Schedule { get; init; }

    /// <summary>The plan, or null when the schedule could not be planned (see <see cref="Error"/>).</summary>
    public FiringPlan? Plan { get; init; }

    public IReadOnlyList<TrainingJob> Created { get; init; } = Array.Empty<TrainingJob>();

    /// <summary>Another pass fired (or a user changed) the schedule first; this pass changed nothing.</summary>
    public bool LostRace { get; init; }

    /// <summary>Occurrences whose job already existed (someone moved NextRun back); they were not created twice.</summary>
    public int AlreadyCreated { get; init; }

    /// <summary>The user declined the firing (-WhatIf, -Confirm).</summary>
    public bool Declined { get; init; }

    public JobQueueException? Error { get; init; }
}

/// <summary>
/// The maintenance service that fires due schedules: it reads them, plans each with
/// <see cref="FiringPlanner"/>, and fires the plans in conditional writes, many to a
/// transaction (see <see cref="IJobStore.FireSchedules"/>), so any number of concurrent passes create each
/// occurrence's job exactly once and a pass that loses a race neither duplicates nor fails.
/// </summary>
public sealed class ScheduleFiring
{
    /// <summary>An occurrence more than this late when a pass sees it was missed (no scheduler ran at the time).</summary>
    public static readonly TimeSpan MisfireThreshold = TimeSpan.FromMinutes(1);

    /// <summary>The most jobs a RunAll schedule creates for missed occurrences in one pass (the most recent ones).</summary>
    public const int RunAllCap = 100;

    private readonly IJobStore _store;
    private readonly IClock _clock;

    public ScheduleFiring(IJobStore store, IClock? clock = null)
    {
        _store = store;
        _clock = clock ?? SystemClock.Instance;
    }

    /// <summary>The most firings written in one transaction: bounds how long a pass holds the write lock.</summary>
    public const int FiresPerTransaction = 500;

    /// <summary>
    /// Fires what is due at <paramref name="now"/> (the real time, or a chosen moment for tests
    /// and backfills). <paramref name="approve"/> may decline a plan (-WhatIf).
    /// </summary>
    public IReadOnlyList<ScheduleOutcome> Run(DateTimeOffset now, Func<FiringPlan, bool>? approve = null)
    {
        var due = _store.DueSchedules(now);
        if (due.Count == 0) return Array.Empty<ScheduleOutcome>();
        var guarded = due.Where(d => d.Schedule.OverlapPolicy != OverlapPolicy.Allow).Select(d => d.Schedule.ScheduleId).ToList();
        var activity = guarded.Count > 0
            ? _store.ScheduleActivity(guarded)
            : new Dictionary<long, ScheduleActivity>();

        // Plan (and ask) first, then write the approved firings together: one transaction per
        // batch instead of one per schedule.
        var outcomes = new ScheduleOutcome?[due.Count];
        var approved = new List<(int Index, DueSchedule Item, FiringPlan Plan)>();
        try
        {
            for (var i = 0; i < due.Count; i++)
            {
                var item = due[i];
                FiringPlan plan;
                try
                {
                    plan = FiringPlanner.Plan(item, now, activity.GetValueOrDefault(item.Schedule.ScheduleId));
                }
                catch (JobQueueException ex) when (ex.Kind is ErrorKind.InvalidCron or ErrorKind.InvalidTimeZone)
                {
                    // A row edited by hand, or a zone this machine does not know: report it, fire the others.
                    outcomes[i] = new ScheduleOutcome { Schedule = item.Schedule, Error = ex };
                    continue;
                }
                if (plan.Held)
                {
                    outcomes[i] = new ScheduleOutcome { Schedule = item.Schedule, Plan = plan };
                    continue;
                }
                if (approve is not null && !approve(plan))
                {
                    outcomes[i] = new ScheduleOutcome { Schedule = item.Schedule, Plan = plan, Declined = true };
                    continue;
                }
                approved.Add((i, item, plan));
            }
        }
        catch
        {
            // The user stopped the pass at a prompt: what was approved before still fires, as it
            // did when each schedule was fired right after its prompt.
            Fire(approved, outcomes);
            throw;
        }
        Fire(approved, outcomes);
        return outcomes!;
    }

    private void Fire(List<(int Index, DueSchedule Item, FiringPlan Plan)> approved, ScheduleOutcome?[] outcomes)
    {
        foreach (var chunk in approved.Chunk(FiresPerTransaction))
        {
            var jobs = chunk.Select(a => a.Plan.Occurrences.Select(o => JobFor(a.Item.Schedule, o)).ToList()).ToList();
            var fires = chunk.Select((a, k) => new ScheduleFire(
                a.Item.Schedule.ScheduleId,
                a.Item.NextRun,
                a.Item.UpdatedAt,
                a.Plan.NextRun,
                a.Plan.Occurrences.Count > 0 ? a.Plan.Occurrences[^1] : null,
                jobs[k])).ToList();
            var createdAt = _clock.UtcNow;
            var createdAtLocal = NewJobView.StoredLocalTime(createdAt);
            var results = _store.FireSchedules(fires, createdAt);
            for (var k = 0; k < chunk.Length; k++)
            {
                var (index, item, plan) = chunk[k];
                outcomes[index] = Outcome(item.Schedule, plan, jobs[k], results[k], createdAtLocal);
            }
        }
        approved.Clear();
    }

    private ScheduleOutcome Outcome(JobSchedule schedule, FiringPlan plan, List<NewJob> jobs, IReadOnlyList<long?>? ids, DateTime createdAtLocal)
    {
        if (ids is null)
        {
            return new ScheduleOutcome { Schedule = schedule, Plan = plan, LostRace = true };
        }
        var created = new List<TrainingJob>(jobs.Count);
        for (var i = 0; i < jobs.Count; i++)
        {
            if (ids[i] is { } id) created.Add(NewJobView.ToJob(jobs[i], id, createdAtLocal, _store.Database));
        }
        return new ScheduleOutcome { Schedule = schedule, Plan = plan, Created = created, AlreadyCreated = jobs.Count - created.Count };
    }

    /// <summary>The job an occurrence creates: the schedule's type, config, priority, retries, command, timeout and GPUs, named after the schedule.</summary>
    public static NewJob JobFor(JobSchedule schedule, DateTimeOffset occurrence) => new(
        schedule.JobType,
        schedule.ConfigJson,
        schedule.Priority,
        schedule.MaxRetries,
        schedule.Name,
        schedule.Command,
        schedule.Timeout,
        schedule.GpuCount,
        NotBefore: null,
        ScheduleId: schedule.ScheduleId,
        ScheduledFor: occurrence);
}
