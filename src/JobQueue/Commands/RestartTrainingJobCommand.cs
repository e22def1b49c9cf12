using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;

namespace JobQueue.Commands;

/// <summary>Puts failed or cancelled jobs back to pending so a worker runs them again.</summary>
[Cmdlet(VerbsLifecycle.Restart, "TrainingJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TrainingJob))]
public sealed class RestartTrainingJobCommand : JobQueuePipelineCommand
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
                if (!ShouldProcess($"job {id}", "Reset to pending")) return;
                var job = Client.Restart(id);
                WriteVerbose($"Job {id} reset to pending (will retry).");
                if (PassThru) WriteObject(job);
            });
        }
    }
}
