using System.Management.Automation;
using JobQueue.Engine;
using JobQueue.Engine.Workers;

namespace JobQueue.Infrastructure;

/// <summary>
/// Start-JobWorker -AsJob: the worker runs on a thread of this process as a PowerShell job, so
/// Get-Job, Receive-Job (the finished TrainingJobs), Wait-Job and Stop-Job (a graceful stop:
/// running jobs are signalled, given the grace period and returned to the queue) work on it.
/// </summary>
public sealed class WorkerPowerShellJob : Job
{
    private readonly Worker _worker;
    private readonly Func<Task> _run;
    private readonly WorkerEventQueue _events;
    private readonly ManualResetEventSlim _done = new(false);
    private readonly IDisposable? _resources;
    private volatile bool _stopRequested;

    internal WorkerPowerShellJob(string command, string name, Worker worker, WorkerEventQueue events, Func<Task> run, IDisposable? resources)
        : base(command, name)
    {
        _worker = worker;
        _events = events;
        _run = run;
        _resources = resources;
        PSJobTypeName = "JobQueueWorker";
    }

    public string WorkerId => _worker.WorkerId;

    public override string StatusMessage => _stopRequested ? "Stopping" : "";

    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0;

    public override string Location => Environment.MachineName;

    internal void Start()
    {
        SetJobState(JobState.Running);
        // Started here, so the worker id is taken before Start-JobWorker returns.
        var run = _run();
        run.ContinueWith(_ => _events.Complete(), TaskScheduler.Default);
        var thread = new Thread(() => Pump(run)) { IsBackground = true, Name = $"JobQueue worker {WorkerId}" };
        thread.Start();
    }

    private void Pump(Task run)
    {
        Exception? failure = null;
        foreach (var item in _events.Consume())
        {
            if (item.Job is not null) Output.Add(PSObject.AsPSObject(item.Job));
            if (item.Verbose is not null) Verbose.Add(new VerboseRecord(item.Verbose));
            if (item.Warning is not null) Warning.Add(new WarningRecord(item.Warning));
        }
        try
        {
            run.GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            failure = ex;
        }
        _resources?.Dispose();
        if (failure is JobQueueException jq)
        {
            Error.Add(ErrorFactory.From(jq));
        }
        else if (failure is not null)
        {
            Error.Add(new ErrorRecord(failure, "WorkerFailed", ErrorCategory.NotSpecified, WorkerId));
        }
        SetJobState(failure is not null ? JobState.Failed : _stopRequested ? JobState.Stopped : JobState.Completed);
        _done.Set();
    }

    /// <summary>Stop-Job: a graceful stop; returns when the worker has stopped.</summary>
    public override void StopJob()
    {
        if (IsFinished(JobStateInfo.State)) return;
        _stopRequested = true;
        _worker.RequestStop();
        _done.Wait();
    }

    private static bool IsFinished(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Stopped;

    protected override void Dispose(bool disposing)
    {
        if (disposing && _done.IsSet)
        {
            _done.Dispose();
            _events.Dispose();
        }
        base.Dispose(disposing);
    }
}
