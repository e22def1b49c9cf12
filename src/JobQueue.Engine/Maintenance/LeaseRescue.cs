using System.Diagnostics;
using JobQueue.Engine.Storage;
using JobQueue.Engine.Workers;

namespace JobQueue.Engine.Maintenance;

/// <summary>A job that a rescue took back from a worker that stopped heartbeating.</summary>
public sealed class RescuedJob
{
    public RescuedJob(TrainingJob job, string? previousWorkerId, int stoppedProcesses)
    {
        Job = job;
        PreviousWorkerId = previousWorkerId;
        StoppedProcesses = stoppedProcesses;
    }

    /// <summary>The job as the rescue left it: pending (a retry spent), failed (none left) or cancelled (a cancel was requested).</summary>
    public TrainingJob Job { get; }

    public string? PreviousWorkerId { get; }

    /// <summary>Processes of the dead attempt that were still running on this host and were stopped first.</summary>
    public int StoppedProcesses { get; }
}

/// <summary>
/// Gives back the running jobs whose lease expired (their worker was killed, hung or lost its
/// host). Each is first fenced (moved to the rescuer, so the old owner can neither renew nor
/// finish it); on the same host the orphaned processes of the dead attempt are stopped; then
/// the job goes back to pending with a retry spent, or fails when it has none left, or is
/// cancelled when a cancel was requested. Every step is conditional on the attempt, so two
/// rescuers, or a late owner, never both change a job. Safe to run from every worker and
/// scheduler at once.
/// </summary>
public sealed class LeaseRescue
{
    /// <summary>How long a fenced job stays with its rescuer; a rescuer that dies meanwhile is itself rescued after this.</summary>
    public static readonly TimeSpan HoldDuration = TimeSpan.FromMinutes(1);

    private readonly JobClient _client;
    private readonly string _rescuerId;

    public LeaseRescue(JobClient client, string? rescuerId = null)
    {
        _client = client;
        _rescuerId = "rescue:" + (rescuerId ?? JobClient.DefaultWorkerId());
    }

    /// <summary>How long orphaned processes get after SIGTERM before they are killed.</summary>
    public TimeSpan OrphanGracePeriod { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>At most this many jobs per pass.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>
    /// One pass. <paramref name="releaseWorkerId"/>: also take back every running job of that
    /// worker id, expired or not (a restarted worker releases what its previous process held).
    /// </summary>
    public IReadOnlyList<RescuedJob> RunOnce(string? releaseWorkerId = null)
    {
        var store = _client.Store;
        var rescued = new List<RescuedJob>();
        var now = _client.Clock.UtcNow;
        foreach (var lease in store.FindExpiredLeases(now, BatchSize, releaseWorkerId))
        {
            if (!store.HoldExpiredLease(lease, _rescuerId, now + HoldDuration, now, releaseWorkerId)) continue;
            var stopped = StopOrphans(store.Database, lease);
            var who = $"worker '{lease.WorkerId}' on '{lease.HostName}'";
            var reason = lease.WorkerId == releaseWorkerId
                ? $"{who} was restarted while it ran attempt {lease.Attempt}"
                : $"{who} stopped heartbeating (lease expired at {lease.LeaseExpiresAt?.ToLocalTime():yyyy-MM-dd HH:mm:ss}) during attempt {lease.Attempt}";
            var orphan = stopped > 0 ? $"; {stopped} leftover process(es) of that attempt were stopped" : "";
            var completion = new RescueCompletion(
                lease.JobId,
                lease.Attempt,
                _rescuerId,
                lease.WorkerId,
                RetryMessage: $"Rescued: {reason}{orphan}; back to the queue (retry {lease.RetryCount + 1}/{lease.MaxRetries}).",
                FailedMessage: $"Failed: {reason}{orphan}; no retries left ({lease.RetryCount}/{lease.MaxRetries}).",
                CancelledMessage: $"Cancelled by request; {reason}{orphan}.");
            var job = store.CompleteRescue(completion, _client.Clock.UtcNow);
            if (job is null) continue;
            try
            {
                store.AddLog(job.JobId, JobLogLevel.Warning, job.ErrorMessage ?? reason, _client.Clock.UtcNow, lease.Attempt);
            }
            catch (JobQueueException)
            {
                // The outcome is recorded; the log line is a courtesy.
            }
            rescued.Add(new RescuedJob(job, lease.WorkerId, stopped));
        }
        return rescued;
    }

    /// <summary>
    /// Linux: stops processes on this host that an attempt of a job of this queue started but
    /// that attempt no longer holds its job (it was rescued from another host, finished, or
    /// cancelled while its worker was dead). Found by their JOBQUEUE_* variables, so nothing
    /// else is ever touched. Returns (job, attempt, processes stopped) for each.
    /// </summary>
    public IReadOnlyList<(long JobId, int Attempt, int Processes)> StopLocalOrphans()
    {
        var stopped = new List<(long, int, int)>();
        if (!OperatingSystem.IsLinux()) return stopped;
        var database = _client.Store.Database;
        var byAttempt = ProcessTree.FindByDatabase(database);
        if (byAttempt.Count == 0) return stopped;
        // The stop flag of no worker is read along; only the jobs' states matter here.
        var states = _client.Store.Poll(string.Empty, byAttempt.Keys.Select(k => k.JobId).Distinct().ToList()).Jobs;
        foreach (var ((jobId, attempt), pids) in byAttempt)
        {
            var state = states.FirstOrDefault(s => s.JobId == jobId);
            if (state is { Status: JobStatus.Running } && state.Attempt == attempt) continue;
            stopped.Add((jobId, attempt, StopProcesses(pids)));
        }
        return stopped;
    }

    private int StopProcesses(IReadOnlyCollection<int> pids)
    {
        foreach (var pid in pids) Signal(pid, kill: false);
        var deadline = DateTime.UtcNow + OrphanGracePeriod;
        while (DateTime.UtcNow < deadline && pids.Any(ProcessTree.IsAlive)) Thread.Sleep(100);
        foreach (var pid in pids.Where(ProcessTree.IsAlive)) Signal(pid, kill: true);
        return pids.Count;
    }

    /// <summary>Stops what is left of the dead attempt on this host; returns how many processes were stopped.</summary>
    private int StopOrphans(string database, ExpiredLease lease)
    {
        if (lease.HostName is null || !string.Equals(lease.HostName, Environment.MachineName, StringComparison.OrdinalIgnoreCase)) return 0;
        var identity = new AttemptIdentity(database, lease.JobId, lease.Attempt);
        var targets = new HashSet<int>(ProcessTree.FindByIdentity(identity));

        // Where the environment cannot be read (another OS, another user), the recorded pid
        // counts only if the process there started when the trainer did.
        Process? recorded = null;
        if (lease.ProcessId is { } pid && !targets.Contains(pid) && lease.ProcessStartedAt is { } started
            && ProcessTree.StartTime(pid) is { } actual && (actual - started).Duration() < TimeSpan.FromSeconds(1))
        {
            try
            {
                recorded = Process.GetProcessById(pid);
            }
            catch (ArgumentException)
            {
            }
        }
        if (targets.Count == 0 && recorded is null) return 0;

        foreach (var target in targets) Signal(target, kill: false);
        if (recorded is not null && !OperatingSystem.IsWindows()) Signal(recorded.Id, kill: false);
        var deadline = DateTime.UtcNow + OrphanGracePeriod;
        while (DateTime.UtcNow < deadline && (targets.Any(ProcessTree.IsAlive) || (recorded is not null && !recorded.HasExited)))
        {
            Thread.Sleep(100);
        }
        foreach (var target in targets.Where(ProcessTree.IsAlive)) Signal(target, kill: true);
        if (recorded is not null)
        {
            try
            {
                if (!recorded.HasExited) recorded.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
            recorded.Dispose();
        }
        // Wait (briefly) until they are really gone, so the next attempt never runs beside them.
        var gone = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (DateTime.UtcNow < gone && targets.Any(ProcessTree.IsAlive)) Thread.Sleep(50);
        return targets.Count + (recorded is not null ? 1 : 0);
    }

    private static void Signal(int pid, bool kill)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            if (kill)
            {
                p.Kill(entireProcessTree: true);
            }
            else
            {
                ProcessTree.Terminate(p, ownGroup: false, identity: null);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }
}
