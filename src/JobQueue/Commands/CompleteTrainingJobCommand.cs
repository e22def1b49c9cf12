using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Engine.Storage;

namespace JobQueue.Commands;

/// <summary>
/// Records the outcome of a claimed job. Only the claim that owns the job may complete it: a
/// piped job carries its Attempt and WorkerId, and a stale claim changes nothing.
/// </summary>
[Cmdlet(VerbsLifecycle.Complete, "TrainingJob", SupportsShouldProcess = true)]
[OutputType(typeof(TrainingJob))]
public sealed class CompleteTrainingJobCommand : JobQueuePipelineCommand
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("JobId")]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public long Id { get; set; }

    /// <summary>The claim's attempt number; when given, the job must still be held by that attempt.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int? Attempt { get; set; }

    /// <summary>When given, the job must be held by this worker.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(WorkerIdCompleter))]
    public string? WorkerId { get; set; }

    [Parameter]
    public SwitchParameter Failed { get; set; }

    [Parameter]
    public string? ErrorMessage { get; set; }

    [Parameter]
    public int? ExitCode { get; set; }

    /// <summary>With -Failed: the delay before the retry, instead of the exponential backoff.</summary>
    [Parameter]
    public TimeSpan? RetryDelay { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var outcome = Failed ? "Fail" : "Complete";
        if (!ShouldProcess($"job {Id}", outcome)) return;
        Try(() =>
        {
            if (RetryDelay is { } delay && delay < TimeSpan.Zero)
            {
                throw new JobQueueException(ErrorKind.InvalidArgument, "RetryDelay must not be negative.", delay, code: "InvalidRetryDelay");
            }
            var job = Client.Finish(new FinishRequest(
                Id,
                Failed ? JobOutcome.Failed : JobOutcome.Succeeded,
                Attempt,
                WorkerId,
                Failed ? ErrorMessage ?? (ExitCode is { } code ? $"Exited with code {code}." : "Failed.") : null,
                ExitCode,
                RetryDelay));
            if (job.Status == JobStatus.Pending)
            {
                WriteVerbose($"Job {job.JobId} failed and will be retried ({job.RetryCount}/{job.MaxRetries}) after {job.NotBefore}.");
            }
            if (PassThru) WriteObject(job);
        });
    }
}
