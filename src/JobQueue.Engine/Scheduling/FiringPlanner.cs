using JobQueue.Engine.Storage;

namespace JobQueue.Engine.Scheduling;

/// <summary>What one pass will do with one due schedule; made from stored values only, so it can be tested alone.</summary>
public sealed class FiringPlan
{
    public required JobSchedule Schedule { get; init; }

    /// <summary>The occurrences (UTC) that get a job, oldest first.</summary>
    public IReadOnlyList<DateTimeOffset> Occurrences { get; init; } = Array.Empty<DateTimeOffset>();

    /// <summary>The schedule's next run after this pass (UTC); null when the expression never occurs again.</summary>
    public DateTimeOffset? NextRun { get; init; }

    /// <summary>How many occurrences had fallen due (since the stored next run, up to now).</summary>
    public int Due { get; init; }

    /// <summary>The oldest and the most recent due occurrence (UTC).</summary>
    public DateTimeOffset? FirstDue { get; init; }

    public DateTimeOffset? LastDue { get; init; }

    /// <summary>Due occurrences more than the misfire threshold late: missed while no scheduler ran.</summary>
    public int Late { get; init; }

    /// <summary>
    /// More occurrences fell due than one pass counts (<see cref="FiringPlanner.ScanLimit"/>): Due, Late
    /// and Missed are lower bounds; the most recent occurrences were still found and handled.
    /// </summary>
    public bool CountsAreLowerBounds { get; init; }

    /// <summary>Late occurrences that the MisfirePolicy (or the RunAll cap) dropped.</summary>
    public int Missed { get; init; }

    /// <summary>Occurrences dropped because a run of the schedule was still pending or running, or because runs of a Skip/Queue schedule must not overlap.</summary>
    public int SkippedForOverlap { get; init; }

    /// <summary>Waiting occurrences of a Queue schedule folded into the one job it runs after the previous run ended.</summary>
    public int Folded { get; init; }

    /// <summary>A Queue schedule waiting for its previous run: nothing is written.</summary>
    public bool Held { get; init; }

    /// <summary>The stored next run was not an occurrence (the schedule was edited by hand); the plan only moves it on.</summary>
    public bool Realigned { get; init; }
}

/// <summary>
/// Decides, for a due schedule, which occurrences get a job. The rules (also in the help):
/// <list type="bullet">
/// <item>Due occurrences are those from the stored NextRun up to now. One more than
/// <see cref="ScheduleFiring.MisfireThreshold"/> old was missed (no scheduler ran at the time);
/// the others are on time and always run.</item>
/// <item>MisfirePolicy: RunOnce runs the on-time occurrences, or when there are none one
/// catch-up job for the most recent missed one; Skip runs only the on-time ones; RunAll runs
/// all, the most recent <see cref="ScheduleFiring.RunAllCap"/> at most.</item>
/// <item>OverlapPolicy, when a job of the schedule is pending or running: Allow goes on; Skip
/// drops every due occurrence; Queue holds them (nothing is written). A Queue schedule whose
/// previous run ended after its oldest due occurrence was waiting, not misfiring: it runs one
/// job for the most recent occurrence. Skip and Queue schedules get at most one job per pass.</item>
/// <item>Afterwards NextRun is the first occurrence after now: enabling, downtime or holding
/// never leaves a flood of old occurrences behind.</item>
/// </list>
/// </summary>
public static class FiringPlanner
{
    /// <summary>The most due occurrences one pass steps through one by one (about a minute-by-minute cron's 70 days).</summary>
    public const int ScanLimit = 100_000;

    public static FiringPlan Plan(DueSchedule due, DateTimeOffset now, ScheduleActivity? activity)
    {
        var schedule = due.Schedule;
        var cron = CronSchedule.Parse(schedule.Expression, schedule.TimeZone);

        var onTimeFrom = now - ScheduleFiring.MisfireThreshold;
        DateTimeOffset? first = null;
        var count = 0;
        var late = 0;
        var recent = new Queue<DateTimeOffset>();
        var truncated = false;
        foreach (var occurrence in cron.Between(due.NextRun, now))
        {
            if (count == ScanLimit)
            {
                truncated = true;
                break;
            }
            first ??= occurrence;
            count++;
            if (occurrence < onTimeFrom) late++;
            recent.Enqueue(occurrence);
            if (recent.Count > ScheduleFiring.RunAllCap) recent.Dequeue();
        }
        if (truncated)
        {
            // Millions of occurrences fell due (a -Now or -StartAt years away from the stored next
            // run): stepping through each would keep the pass busy for minutes or hours. The most
            // recent ones, which are all any policy runs, lie in a window before now twice as long
            // as the last RunAllCap occurrences scanned (at least twice the misfire threshold); the
            // ones between are missed and not counted one by one.
            var span = recent.Last() - recent.Peek();
            var window = span + span > ScheduleFiring.MisfireThreshold + ScheduleFiring.MisfireThreshold
                ? span + span
                : ScheduleFiring.MisfireThreshold + ScheduleFiring.MisfireThreshold;
            var tailFrom = now.UtcTicks - window.Ticks > recent.Last().UtcTicks ? now - window : recent.Last().AddTicks(1);
            recent.Clear();
            foreach (var occurrence in cron.Between(tailFrom, now))
            {
                count++;
                if (occurrence < onTimeFrom) late++;
                recent.Enqueue(occurrence);
                if (recent.Count > ScheduleFiring.RunAllCap) recent.Dequeue();
            }
            if (recent.Count == 0)
            {
                return new FiringPlan { Schedule = schedule, NextRun = cron.NextAfter(now), Due = count, FirstDue = first, Late = late, Missed = late, CountsAreLowerBounds = true };
            }
        }
        if (count == 0)
        {
            return new FiringPlan { Schedule = schedule, NextRun = cron.NextOnOrAfter(due.NextRun), Realigned = true };
        }

        var nextRun = cron.NextAfter(now);
        var latest = recent.Last();
        var active = activity?.HasActiveRun == true;
        if (active && schedule.OverlapPolicy == OverlapPolicy.Skip)
        {
            return new FiringPlan { Schedule = schedule, NextRun = nextRun, Due = count, FirstDue = first, LastDue = latest, SkippedForOverlap = count, CountsAreLowerBounds = truncated };
        }
        if (active && schedule.OverlapPolicy == OverlapPolicy.Queue)
        {
            return new FiringPlan { Schedule = schedule, NextRun = due.NextRun, Due = count, FirstDue = first, LastDue = latest, Held = true, CountsAreLowerBounds = truncated };
        }

        var waited = schedule.OverlapPolicy == OverlapPolicy.Queue && activity?.LastEndedAt > first;
        if (waited)
        {
            return new FiringPlan { Schedule = schedule, Occurrences = new[] { latest }, NextRun = nextRun, Due = count, FirstDue = first, LastDue = latest, Folded = count - 1, CountsAreLowerBounds = truncated };
        }

        var onTime = recent.Where(o => o >= onTimeFrom).ToList();
        List<DateTimeOffset> fire = schedule.MisfirePolicy switch
        {
            MisfirePolicy.RunAll => recent.ToList(),
            MisfirePolicy.Skip => onTime,
            _ => onTime.Count > 0 ? onTime : new List<DateTimeOffset> { latest },
        };
        var missed = count - fire.Count;
        var skipped = 0;
        if (schedule.OverlapPolicy != OverlapPolicy.Allow && fire.Count > 1)
        {
            skipped = fire.Count - 1;
            fire = new List<DateTimeOffset> { fire[^1] };
        }
        return new FiringPlan
        {
            Schedule = schedule,
            Occurrences = fire,
            NextRun = nextRun,
            Due = count,
            FirstDue = first,
            LastDue = latest,
            Late = late,
            Missed = missed,
            SkippedForOverlap = skipped,
            CountsAreLowerBounds = truncated,
        };
    }
}
