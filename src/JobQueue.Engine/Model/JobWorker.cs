namespace JobQueue.Engine;

/// <summary>A worker as the queue sees it. Lost: its heartbeat is older than its lease (killed, host gone).</summary>
public enum WorkerState
{
    Running,
    Stopping,
    Stopped,
    Lost,
}

/// <summary>One worker process (of any host) that has registered with the queue.</summary>
public sealed class JobWorker
{
    public string WorkerId { get; init; } = "";
    public string HostName { get; init; } = "";
    public int ProcessId { get; init; }
    public DateTime StartedAt { get; init; }
    public DateTime LastHeartbeat { get; init; }
    public WorkerState State { get; init; }

    /// <summary>The jobs it is running now.</summary>
    public long[] CurrentJobIds { get; init; } = Array.Empty<long>();

    /// <summary>The GPU devices it owns (-Gpu); null when it does not manage GPUs.</summary>
    public int[]? Gpus { get; init; }

    public long JobsCompleted { get; init; }
    public long JobsFailed { get; init; }

    /// <summary>How long its claims hold without a heartbeat.</summary>
    public TimeSpan? LeaseDuration { get; init; }

    /// <summary>Someone asked it to drain and stop (Stop-JobWorker).</summary>
    public bool StopRequested { get; init; }

    public string Database { get; init; } = "";

    public override string ToString() => $"{WorkerId} {State}";

    /// <summary>
    /// What a stored worker row means now: a running or stopping worker whose heartbeat is older
    /// than its lease is Lost; a running one asked to stop is Stopping. One rule for every backend.
    /// </summary>
    public static WorkerState StateOf(string storedState, DateTime lastHeartbeatUtc, TimeSpan? lease, bool stopRequested, DateTimeOffset now)
    {
        var state = EnumText.ParseWorkerState(storedState);
        if (state is WorkerState.Running or WorkerState.Stopping
            && lastHeartbeatUtc + (lease ?? JobClient.DefaultClaimLease) < now.UtcDateTime)
        {
            return WorkerState.Lost;
        }
        return state == WorkerState.Running && stopRequested ? WorkerState.Stopping : state;
    }
}
