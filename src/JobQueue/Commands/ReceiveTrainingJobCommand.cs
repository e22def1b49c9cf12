using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;

namespace JobQueue.Commands;

/// <summary>
/// Atomically claims the next pending job (highest priority, then oldest) for a worker loop of
/// your own, and emits it as running; emits nothing when no job is ready.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "TrainingJob", SupportsShouldProcess = true)]
[OutputType(typeof(TrainingJob))]
public sealed class ReceiveTrainingJobCommand : JobQueueCommand
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(WorkerIdCompleter))]
    public string WorkerId { get; set; } = JobClient.DefaultWorkerId();

    [Parameter]
    [Alias("JobType")]
    [ArgumentCompleter(typeof(JobTypeCompleter))]
    public string[]? Type { get; set; }

    /// <summary>How long the claim holds the job without being completed before a rescue may take it back.</summary>
    [Parameter]
    public TimeSpan Lease { get; set; } = JobClient.DefaultClaimLease;

    protected override void ProcessRecord()
    {
        if (Lease <= TimeSpan.Zero)
        {
            Must<int>(() => throw new JobQueueException(ErrorKind.InvalidArgument, "Lease must be positive.", Lease, code: "InvalidLease"));
        }
        if (!ShouldProcess($"next pending job for worker '{WorkerId}'", "Claim")) return;
        var job = Must(() => Client.Claim(WorkerId, Type, Lease));
        if (job is not null) WriteObject(job);
    }
}
