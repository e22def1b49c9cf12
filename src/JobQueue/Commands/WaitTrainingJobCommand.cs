using System.Diagnostics;
using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>Waits until jobs finish (completed, failed or cancelled) and emits them, with a progress bar.</summary>
[Cmdlet(VerbsLifecycle.Wait, "TrainingJob")]
[OutputType(typeof(TrainingJob))]
public sealed class WaitTrainingJobCommand : LongRunningCommand
{
    private readonly List<long> _ids = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("JobId")]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public long[] Id { get; set; } = Array.Empty<long>();

    /// <summary>How long to wait at most; by default, until the jobs finish.</summary>
    [Parameter]
    public TimeSpan? Timeout { get; set; }

    /// <summary>Return as soon as one of the jobs finishes.</summary>
    [Parameter]
    public SwitchParameter Any { get; set; }

    /// <summary>How often the queue is checked.</summary>
    [Parameter]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    protected override void ProcessRecord() => _ids.AddRange(Id);

    // A poll interval longer than what is left of -Timeout must not delay the timeout.
    private TimeSpan NextPause(TimeSpan elapsed)
    {
        if (Timeout is not { } timeout) return PollInterval;
        var left = timeout - elapsed;
        return left <= TimeSpan.Zero ? TimeSpan.Zero : left < PollInterval ? left : PollInterval;
    }

    protected override void EndProcessing()
    {
        if (Timeout is { } t && t < TimeSpan.Zero)
        {
            ThrowTerminatingError(ErrorFactory.Create("InvalidTimeout", ErrorCategory.InvalidArgument, "Timeout must not be negative.", t));
        }
        if (PollInterval <= TimeSpan.Zero) PollInterval = TimeSpan.FromMilliseconds(250);
        var waiting = new List<long>();
        foreach (var id in _ids.Distinct())
        {
            Try(() =>
            {
                Client.GetJob(id);
                waiting.Add(id);
            });
        }
        if (waiting.Count == 0) return;

        var total = waiting.Count;
        var clock = Stopwatch.StartNew();
        var progress = new ProgressRecord(1, "Waiting for training jobs", "Starting") { PercentComplete = 0 };
        var finished = new List<TrainingJob>();
        while (true)
        {
            var jobs = Must(() => Client.Store.List(new Engine.Storage.JobQuery { Ids = waiting }));
            foreach (var job in jobs.Where(j => j.Status.IsTerminal()))
            {
                waiting.Remove(job.JobId);
                finished.Add(job);
                WriteObject(job);
            }
            // A job removed while we wait is finished for our purposes.
            waiting.RemoveAll(id => jobs.All(j => j.JobId != id));
            if (waiting.Count == 0 || (Any && finished.Count > 0)) break;
            if (Timeout is { } timeout && clock.Elapsed >= timeout)
            {
                foreach (var id in waiting)
                {
                    WriteError(ErrorFactory.Create("WaitTimeout", ErrorCategory.OperationTimeout,
                        $"Job {id} did not finish within {timeout}.", id));
                }
                break;
            }
            var running = jobs.Count(j => j.Status == JobStatus.Running);
            progress.StatusDescription = $"{total - waiting.Count} of {total} finished, {running} running, {waiting.Count - running} pending ({clock.Elapsed:hh\\:mm\\:ss})";
            progress.PercentComplete = (int)(100.0 * (total - waiting.Count) / total);
            WriteProgress(progress);
            if (!Pause(NextPause(clock.Elapsed))) break;
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }
}
