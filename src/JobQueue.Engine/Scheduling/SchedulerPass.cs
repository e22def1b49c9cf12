using JobQueue.Engine.Storage;

namespace JobQueue.Engine.Scheduling;

/// <summary>A maintenance step that runs in every scheduler pass, beside schedule firing.</summary>
public interface IMaintenanceStep
{
    string Name { get; }

    /// <summary>Runs once; <paramref name="now"/> is always the real time, never a pass's -Now.</summary>
    MaintenanceResult Run(DateTimeOffset now);
}

/// <summary>What a step did: how many items it touched, and a line for -Verbose.</summary>
public sealed record MaintenanceResult(string Step, int Affected, string Summary);

/// <summary>Adapts a method of another engine service (lease rescue, pruning) to a step.</summary>
public sealed class MaintenanceStep : IMaintenanceStep
{
    private readonly Func<DateTimeOffset, MaintenanceResult> _run;

    public MaintenanceStep(string name, Func<DateTimeOffset, MaintenanceResult> run)
    {
        Name = name;
        _run = run;
    }

    public string Name { get; }

    public MaintenanceResult Run(DateTimeOffset now) => _run(now);
}

/// <summary>The maintenance that Invoke-JobScheduler and Start-JobScheduler run in each pass.</summary>
public static class MaintenanceSteps
{
    /// <summary>
    /// The steps every scheduler pass runs before it fires schedules: lease rescue, so that a
    /// cron-driven Invoke-JobScheduler or a Start-JobScheduler service also gives back the jobs of
    /// dead workers (pending with a retry spent, failed when out of retries) even when no worker
    /// is alive to do it.
    /// </summary>
    public static IEnumerable<IMaintenanceStep> ForSchedulerPass(IJobStore store)
    {
        yield return new MaintenanceStep("LeaseRescue", _ =>
        {
            // The real clock, never a pass's -Now: a replay of a simulated day must not take live leases.
            var rescued = new JobClient(store, SystemClock.Instance).RescueExpiredLeases("scheduler-" + JobClient.DefaultWorkerId());
            var summary = rescued.Count == 0
                ? "no expired leases"
                : $"rescued {rescued.Count} job(s) of dead workers: " + string.Join(", ",
                    rescued.Select(r => $"{r.Job.JobId} ({r.Job.Status.ToString().ToLowerInvariant()}, was '{r.PreviousWorkerId}')"));
            return new MaintenanceResult("LeaseRescue", rescued.Count, summary);
        });
    }
}

public sealed class SchedulerPassResult
{
    /// <summary>The moment schedules were fired for (UTC).</summary>
    public DateTimeOffset Now { get; init; }

    public IReadOnlyList<MaintenanceResult> Maintenance { get; init; } = Array.Empty<MaintenanceResult>();
    public IReadOnlyList<ScheduleOutcome> Schedules { get; init; } = Array.Empty<ScheduleOutcome>();

    /// <summary>The jobs this pass created, in the order of their schedules and occurrences.</summary>
    public IEnumerable<TrainingJob> Created => Schedules.SelectMany(s => s.Created);

    /// <summary>A Queue schedule is waiting for its previous run to end.</summary>
    public bool AnyHeld => Schedules.Any(s => s.Plan?.Held == true);
}

/// <summary>
/// One scheduler pass: the maintenance steps (with the real time), then schedule firing (with
/// the pass's time). Invoke-JobScheduler runs one; Start-JobScheduler runs one per wake-up.
/// </summary>
public sealed class SchedulerPass
{
    private readonly IClock _clock;

    public SchedulerPass(IJobStore store, IClock? clock = null, IEnumerable<IMaintenanceStep>? maintenance = null)
    {
        _clock = clock ?? SystemClock.Instance;
        Firing = new ScheduleFiring(store, _clock);
        Maintenance = (maintenance ?? MaintenanceSteps.ForSchedulerPass(store)).ToList();
    }

    public ScheduleFiring Firing { get; }

    public IReadOnlyList<IMaintenanceStep> Maintenance { get; }

    /// <param name="now">The moment to fire schedules for; the real time when null.</param>
    /// <param name="approveStep">May decline a maintenance step by name (-WhatIf).</param>
    /// <param name="approveFiring">May decline a firing (-WhatIf, -Confirm).</param>
    public SchedulerPassResult Run(DateTimeOffset? now = null, Func<string, bool>? approveStep = null, Func<FiringPlan, bool>? approveFiring = null)
    {
        var maintenance = new List<MaintenanceResult>();
        foreach (var step in Maintenance)
        {
            if (approveStep is null || approveStep(step.Name)) maintenance.Add(step.Run(_clock.UtcNow));
        }
        var at = now ?? _clock.UtcNow;
        return new SchedulerPassResult { Now = at, Maintenance = maintenance, Schedules = Firing.Run(at, approveFiring) };
    }
}
