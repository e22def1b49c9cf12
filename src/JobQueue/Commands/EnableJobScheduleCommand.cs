using System.Management.Automation;
using JobQueue.Engine;

namespace JobQueue.Commands;

/// <summary>
/// Enables schedules. The next run is computed from now (or -StartAt), so the occurrences that
/// passed while a schedule was disabled never run. An enabled schedule is left as it is.
/// </summary>
[Cmdlet(VerbsLifecycle.Enable, "JobSchedule", DefaultParameterSetName = NameSet, SupportsShouldProcess = true)]
[OutputType(typeof(JobSchedule))]
public sealed class EnableJobScheduleCommand : JobScheduleCommand
{
    /// <summary>Compute the next run from this moment instead of now; also re-times a schedule that is already enabled.</summary>
    [Parameter]
    public DateTimeOffset? StartAt { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var schedule in Targets())
        {
            Try(() =>
            {
                if (schedule.Enabled && StartAt is null)
                {
                    WriteVerbose($"Schedule '{schedule.Name}' is already enabled.");
                    if (PassThru) WriteObject(schedule);
                    return;
                }
                if (!ShouldProcess(Describe(schedule), "Enable")) return;
                var enabled = Client.EnableSchedule(schedule, StartAt);
                WriteVerbose($"Enabled schedule {enabled.ScheduleId} ('{enabled.Name}'); next run: {(enabled.NextRun is { } next ? next.ToString("yyyy-MM-ddTHH:mm:ss") : "none")}.");
                if (PassThru) WriteObject(enabled);
            });
        }
    }
}
