using System.Globalization;
using System.Management.Automation;
using JobQueue.Engine;
using JobQueue.Engine.Scheduling;

namespace JobQueue.Infrastructure;

/// <summary>
/// Turns a scheduler pass into what a user sees: the created jobs as output, missed runs as
/// warnings, broken schedules as non-terminating errors, the rest as verbose lines.
/// Called on the pipeline thread only.
/// </summary>
internal static class SchedulerReporting
{
    public static (int Created, int LostRaces) Write(Cmdlet cmdlet, SchedulerPassResult result)
    {
        var created = 0;
        var lost = 0;
        foreach (var step in result.Maintenance)
        {
            cmdlet.WriteVerbose($"{step.Step}: {step.Summary}");
        }
        foreach (var outcome in result.Schedules)
        {
            var schedule = outcome.Schedule;
            var name = $"Schedule '{schedule.Name}'";
            if (outcome.Error is { } error)
            {
                cmdlet.WriteError(ErrorFactory.From(new JobQueueException(error.Kind,
                    $"{name} (id {schedule.ScheduleId}) was not fired: {error.Message} Fix it with Set-JobSchedule.", schedule.Name, error, error.Code)));
                continue;
            }
            var plan = outcome.Plan!;
            if (plan.Held)
            {
                cmdlet.WriteVerbose($"{name}: the occurrence at {At(schedule, plan.FirstDue)} waits until the previous run ends (OverlapPolicy Queue).");
                continue;
            }
            if (outcome.Declined) continue;
            if (outcome.LostRace)
            {
                lost++;
                cmdlet.WriteVerbose($"{name}: another scheduler pass fired the occurrence at {At(schedule, plan.FirstDue)} first (or the schedule was changed); nothing created twice.");
                continue;
            }
            if (plan.Realigned)
            {
                cmdlet.WriteVerbose($"{name}: its stored next run was not an occurrence of '{schedule.Expression}'; next run moved to {At(schedule, plan.NextRun)}.");
                continue;
            }
            if (plan.Late > 0)
            {
                cmdlet.WriteWarning($"{name} missed {(plan.CountsAreLowerBounds ? "more than " : "")}{Runs(plan.Late)} since {At(schedule, plan.FirstDue)} while no scheduler was running; {MisfireEffect(outcome, result.Now)}.");
            }
            if (plan.SkippedForOverlap > 0)
            {
                cmdlet.WriteVerbose($"{name}: skipped {Runs(plan.SkippedForOverlap)} because its previous run is still pending or running, or runs must not overlap (OverlapPolicy {schedule.OverlapPolicy}).");
            }
            if (plan.Folded > 0)
            {
                cmdlet.WriteVerbose($"{name}: {Runs(plan.Folded + 1)} fell due while the previous run was active; one job runs for {At(schedule, plan.LastDue)} (OverlapPolicy Queue).");
            }
            if (outcome.AlreadyCreated > 0)
            {
                cmdlet.WriteVerbose($"{name}: {Runs(outcome.AlreadyCreated)} already had their job; not created again.");
            }
            foreach (var job in outcome.Created)
            {
                created++;
                cmdlet.WriteVerbose($"{name}: created job {job.JobId} for {At(schedule, job.ScheduledFor)}.");
                cmdlet.WriteObject(job);
            }
        }
        return (created, lost);
    }

    private static string MisfireEffect(ScheduleOutcome outcome, DateTimeOffset now)
    {
        var schedule = outcome.Schedule;
        var plan = outcome.Plan!;
        var fired = plan.Occurrences;
        if (fired.Count == 0) return $"MisfirePolicy {schedule.MisfirePolicy}: no job for them";
        var lateFired = fired.Count(o => o < now - ScheduleFiring.MisfireThreshold);
        return schedule.MisfirePolicy switch
        {
            MisfirePolicy.RunAll when plan.SkippedForOverlap > 0 =>
                $"MisfirePolicy RunAll, but OverlapPolicy {schedule.OverlapPolicy} allows one job per pass: one job for {At(schedule, fired[^1])}",
            MisfirePolicy.RunAll when plan.Missed > 0 =>
                $"MisfirePolicy RunAll: jobs for the most recent {fired.Count}; the {(plan.CountsAreLowerBounds ? "more than " : "")}{plan.Missed} older were skipped (at most {ScheduleFiring.RunAllCap} per pass)",
            MisfirePolicy.RunAll => $"MisfirePolicy RunAll: one job each ({lateFired})",
            _ when lateFired > 0 => $"MisfirePolicy {schedule.MisfirePolicy}: one catch-up job for {At(schedule, fired[^1])}",
            _ => $"MisfirePolicy {schedule.MisfirePolicy}: the on-time run at {At(schedule, fired[^1])} goes ahead, the missed ones create no job",
        };
    }

    private static string Runs(int count) => count == 1 ? "1 run" : $"{count} runs";

    private static string At(JobSchedule schedule, DateTimeOffset? utc) =>
        utc is { } value ? At(schedule, value) : "(none)";

    private static string At(JobSchedule schedule, DateTime? local) =>
        local is { } value ? At(schedule, new DateTimeOffset(value)) : "(none)";

    /// <summary>A moment as the schedule's zone shows it, with the zone, e.g. "2026-03-29 03:00 Europe/Berlin".</summary>
    private static string At(JobSchedule schedule, DateTimeOffset value)
    {
        try
        {
            var zone = TimeZones.Find(schedule.TimeZone);
            return TimeZoneInfo.ConvertTime(value, zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " " + schedule.TimeZone;
        }
        catch (JobQueueException)
        {
            return value.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
        }
    }
}
