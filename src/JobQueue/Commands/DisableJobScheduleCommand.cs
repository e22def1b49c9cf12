using System.Management.Automation;
using JobQueue.Engine;

namespace JobQueue.Commands;

/// <summary>Disables schedules: they keep their definition and create no jobs until enabled again. Jobs already created are not touched.</summary>
[Cmdlet(VerbsLifecycle.Disable, "JobSchedule", DefaultParameterSetName = NameSet, SupportsShouldProcess = true)]
[OutputType(typeof(JobSchedule))]
public sealed class DisableJobScheduleCommand : JobScheduleCommand
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var schedule in Targets())
        {
            Try(() =>
            {
                if (!schedule.Enabled)
                {
                    WriteVerbose($"Schedule '{schedule.Name}' is already disabled.");
                    if (PassThru) WriteObject(schedule);
                    return;
                }
                if (!ShouldProcess(Describe(schedule), "Disable")) return;
                var disabled = Client.DisableSchedule(schedule);
                WriteVerbose($"Disabled schedule {disabled.ScheduleId} ('{disabled.Name}').");
                if (PassThru) WriteObject(disabled);
            });
        }
    }
}
