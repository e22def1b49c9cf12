using System.Management.Automation;
using System.Runtime.InteropServices;
using JobQueue.Engine;
using JobQueue.Engine.Scheduling;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>
/// The scheduler daemon: runs scheduler passes until stopped (Ctrl+C, SIGTERM, or -Duration),
/// sleeping until the earliest next run (at most -MaxInterval) and waking early when the
/// database changes. Emits each job it creates. Any number may run against one queue.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "JobScheduler", SupportsShouldProcess = true)]
[OutputType(typeof(TrainingJob))]
public sealed class StartJobSchedulerCommand : LongRunningCommand
{
    /// <summary>The longest sleep between two passes (default 60 seconds).</summary>
    [Parameter]
    public TimeSpan MaxInterval { get; set; } = SchedulerLoop.DefaultMaxInterval;

    /// <summary>Stop after this long; by default the scheduler runs until it is stopped.</summary>
    [Parameter]
    public TimeSpan? Duration { get; set; }

    protected override void EndProcessing()
    {
        if (MaxInterval <= TimeSpan.Zero || Duration is { } d && d < TimeSpan.Zero)
        {
            ThrowTerminatingError(ErrorFactory.Create("InvalidInterval", ErrorCategory.InvalidArgument,
                "MaxInterval must be positive and Duration must not be negative.", null));
        }
        var client = Client;
        if (!ShouldProcess(client.Store.Database, "Run the job scheduler")) return;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(StopToken);
        if (Duration is { } duration) stop.CancelAfter(duration);
        var terminated = false;
        // A service manager stops us with SIGTERM; finish the pass in hand and return normally,
        // so `pwsh -c Start-JobScheduler` exits 0 instead of dying mid-write.
        using var sigterm = Register(PosixSignal.SIGTERM, () =>
        {
            terminated = true;
            stop.Cancel();
        });

        var loop = new SchedulerLoop(client.Store, new SchedulerPass(client.Store, client.Clock), client.Clock, MaxInterval);
        var passes = 0;
        var created = 0;
        WriteVerbose($"Scheduler started on {client.Store.Database} (process {Environment.ProcessId}).");
        try
        {
            Must(() =>
            {
                loop.Run(stop.Token, result =>
                {
                    passes++;
                    created += SchedulerReporting.Write(this, result).Created;
                }, WriteVerbose);
                return 0;
            });
        }
        finally
        {
            if (!StopToken.IsCancellationRequested)
            {
                WriteVerbose($"Scheduler stopped{(terminated ? " by SIGTERM" : "")} after {passes} pass(es); {created} job(s) created.");
            }
        }
    }

    private static IDisposable? Register(PosixSignal signal, Action handler)
    {
        try
        {
            return PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                handler();
            });
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or IOException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
