using System.Diagnostics;
using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>
/// Asks workers, in any process on any host, to drain and stop: each claims nothing more,
/// signals its running jobs, waits its grace period and returns them to the queue. -Wait waits
/// until they have stopped.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "JobWorker", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(JobWorker))]
public sealed class StopJobWorkerCommand : LongRunningCommand
{
    private readonly List<string> _asked = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(WorkerIdCompleter))]
    public string[] WorkerId { get; set; } = Array.Empty<string>();

    /// <summary>Wait until the workers have stopped (or are lost).</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: how long to wait at most.</summary>
    [Parameter]
    [Seconds]
    public TimeSpan? Timeout { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var workers = Must(() => Client.GetWorkers());
        foreach (var worker in WorkerSelection.Select(workers, WorkerId, this))
        {
            switch (worker.State)
            {
                case WorkerState.Stopped:
                    WriteVerbose($"Worker '{worker.WorkerId}' has already stopped.");
                    if (PassThru && !Wait) WriteObject(worker);
                    continue;
                case WorkerState.Lost:
                    WriteWarning($"Worker '{worker.WorkerId}' on '{worker.HostName}' has not sent a heartbeat since {worker.LastHeartbeat:yyyy-MM-dd HH:mm:ss}; it cannot act on a stop request. Its jobs go back to the queue when their leases expire.");
                    continue;
            }
            if (!ShouldProcess($"worker '{worker.WorkerId}' (process {worker.ProcessId} on '{worker.HostName}')", "Stop")) continue;
            Try(() =>
            {
                var updated = Client.RequestWorkerStop(worker.WorkerId);
                WriteVerbose($"Asked worker '{worker.WorkerId}' to drain and stop.");
                _asked.Add(worker.WorkerId);
                if (PassThru && !Wait) WriteObject(updated);
            });
        }
    }

    protected override void EndProcessing()
    {
        if (!Wait || _asked.Count == 0) return;
        if (Timeout is { } t && t < TimeSpan.Zero)
        {
            ThrowTerminatingError(ErrorFactory.Create("InvalidTimeout", ErrorCategory.InvalidArgument, "Timeout must not be negative.", t));
        }
        var clock = Stopwatch.StartNew();
        var waiting = new HashSet<string>(_asked, StringComparer.Ordinal);
        var progress = new ProgressRecord(2, "Stopping job workers", "Waiting") { PercentComplete = 0 };
        while (true)
        {
            var workers = Must(() => Client.GetWorkers());
            foreach (var worker in workers.Where(w => waiting.Contains(w.WorkerId) && w.State is WorkerState.Stopped or WorkerState.Lost))
            {
                waiting.Remove(worker.WorkerId);
                if (PassThru) WriteObject(worker);
            }
            waiting.RemoveWhere(id => workers.All(w => w.WorkerId != id));
            if (waiting.Count == 0) break;
            if (Timeout is { } timeout && clock.Elapsed >= timeout)
            {
                foreach (var id in waiting)
                {
                    WriteError(ErrorFactory.Create("WaitTimeout", ErrorCategory.OperationTimeout, $"Worker '{id}' did not stop within {timeout}.", id));
                }
                break;
            }
            progress.StatusDescription = $"{_asked.Count - waiting.Count} of {_asked.Count} stopped; waiting for {string.Join(", ", waiting)} ({clock.Elapsed:hh\\:mm\\:ss})";
            progress.PercentComplete = (int)(100.0 * (_asked.Count - waiting.Count) / _asked.Count);
            WriteProgress(progress);
            if (!Pause(TimeSpan.FromMilliseconds(250))) break;
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }
}
