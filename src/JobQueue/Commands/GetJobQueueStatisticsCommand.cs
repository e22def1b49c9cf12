using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;

namespace JobQueue.Commands;

/// <summary>Counts jobs by status, in total and per job type.</summary>
[Cmdlet(VerbsCommon.Get, "JobQueueStatistics")]
[OutputType(typeof(JobQueueStatistics))]
public sealed class GetJobQueueStatisticsCommand : JobQueueCommand
{
    [Parameter(Position = 0)]
    [Alias("JobType")]
    [ArgumentCompleter(typeof(JobTypeCompleter))]
    public string? Type { get; set; }

    protected override void ProcessRecord() => WriteObject(Must(() => Client.Statistics(Type)));
}
