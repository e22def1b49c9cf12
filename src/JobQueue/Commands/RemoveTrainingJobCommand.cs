using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;

namespace JobQueue.Commands;

/// <summary>Deletes jobs and their logs: by id, or finished jobs older than an age.</summary>
[Cmdlet(VerbsCommon.Remove, "TrainingJob", DefaultParameterSetName = IdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveTrainingJobCommand : JobQueuePipelineCommand
{
    private const string IdSet = "Id";
    private const string AgeSet = "Age";

    [Parameter(ParameterSetName = IdSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("JobId")]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public long[] Id { get; set; } = Array.Empty<long>();

    /// <summary>Terminal states to prune: Completed, Failed, Cancelled.</summary>
    [Parameter(ParameterSetName = AgeSet, Mandatory = true)]
    public JobStatus[] Status { get; set; } = Array.Empty<JobStatus>();

    /// <summary>Removes jobs that ended longer ago than this.</summary>
    [Parameter(ParameterSetName = AgeSet, Mandatory = true)]
    public TimeSpan OlderThan { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == AgeSet)
        {
            var states = string.Join(", ", Status.Select(s => s.ToString().ToLowerInvariant()));
            if (!ShouldProcess($"{states} jobs that ended more than {OlderThan} ago, with their logs", "Remove")) return;
            var removed = Must(() => Client.RemoveFinished(Status, OlderThan));
            WriteVerbose($"Removed {removed} jobs.");
            return;
        }
        foreach (var id in Id)
        {
            Try(() =>
            {
                if (!ShouldProcess($"job {id} and its logs", "Remove")) return;
                Client.Remove(id);
            });
        }
    }
}
