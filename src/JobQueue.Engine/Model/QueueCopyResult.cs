namespace JobQueue.Engine;

/// <summary>What Copy-JobQueue carried from one database to another.</summary>
public sealed class QueueCopyResult
{
    public string Source { get; init; } = "";
    public string SourceBackend { get; init; } = "";
    public string Destination { get; init; } = "";
    public string DestinationBackend { get; init; } = "";
    public long Jobs { get; init; }
    public long Logs { get; init; }
    public long Schedules { get; init; }
    public TimeSpan Elapsed { get; init; }

    public override string ToString() => $"{Jobs} jobs, {Logs} log lines, {Schedules} schedules to {Destination}";
}
