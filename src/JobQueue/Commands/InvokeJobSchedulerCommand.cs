using System.Management.Automation;
using JobQueue.Engine;
using JobQueue.Engine.Scheduling;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>
/// One scheduler pass, as cron calls it every minute: creates a job for each due occurrence of
/// each enabled schedule (exactly once, however many passes run at the same moment) and emits
/// the jobs it created.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "JobScheduler", SupportsShouldProcess = true)]
[OutputType(typeof(TrainingJob))]
public sealed class InvokeJobSchedulerCommand : JobQueueCommand
{
    /// <summary>
    /// The moment to fire schedules for, instead of the current time: for tests, and to replay
    /// a window. Jobs are still stamped with the real creation time.
    /// </summary>
    [Parameter(Position = 0)]
    public DateTimeOffset? Now { get; set; }

    protected override void ProcessRecord()
    {
        var client = Client;
        var pass = new SchedulerPass(client.Store, client.Clock);
        var result = Must(() => pass.Run(
            Now,
            step => ShouldProcess(client.Store.Database, $"Run maintenance step {step}"),
            plan => ShouldProcess(
                $"schedule '{plan.Schedule.Name}'",
                plan.Occurrences.Count == 0 ? "Move to the next run" : $"Create {plan.Occurrences.Count} job(s)")));
        var (created, lost) = SchedulerReporting.Write(this, result);
        WriteVerbose($"Scheduler pass at {result.Now.UtcDateTime:yyyy-MM-ddTHH:mm:ss}Z: {result.Schedules.Count} due schedule(s), {created} job(s) created, {lost} already fired by another pass.");
    }
}
