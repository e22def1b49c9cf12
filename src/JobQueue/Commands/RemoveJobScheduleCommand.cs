using System.Management.Automation;

namespace JobQueue.Commands;

/// <summary>Deletes schedules. The jobs they created stay in the queue, with their ScheduleId.</summary>
[Cmdlet(VerbsCommon.Remove, "JobSchedule", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveJobScheduleCommand : JobScheduleCommand
{
    protected override void ProcessRecord()
    {
        foreach (var schedule in Targets())
        {
            Try(() =>
            {
                if (!ShouldProcess(Describe(schedule), "Remove")) return;
                Client.RemoveSchedule(schedule.ScheduleId);
                WriteVerbose($"Removed schedule {schedule.ScheduleId} ('{schedule.Name}').");
            });
        }
    }
}
