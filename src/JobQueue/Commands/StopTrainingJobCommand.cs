using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;

namespace JobQueue.Commands;

/// <summary>
/// Cancels jobs. A pending job becomes cancelled at once; for a running job the cancel is
/// recorded and its worker stops the process tree within seconds.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "TrainingJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TrainingJob))]
public sealed class StopTrainingJobCommand : JobQueuePipelineCommand
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("JobId")]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public long[] Id { get; set; } = Array.Empty<long>();

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            Try(() =>
            {
                if (!ShouldProcess($"job {id}", "Cancel")) return;
                var job = Client.Cancel(id);
                WriteVerbose(job.Status == JobStatus.Cancelled
                    ? $"Cancelled job {id}."
                    : $"Job {id} is running on '{job.WorkerId}'; its worker was asked to stop it.");
                if (PassThru) WriteObject(job);
            });
        }
    }
}
