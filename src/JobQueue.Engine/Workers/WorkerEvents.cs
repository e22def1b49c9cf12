using System.Collections.Concurrent;

namespace JobQueue.Engine.Workers;

/// <summary>One thing a worker reports: a finished job, or a verbose or warning message.</summary>
public sealed class WorkerEvent
{
    public TrainingJob? Job { get; init; }
    public string? Verbose { get; init; }
    public string? Warning { get; init; }
}

/// <summary>
/// Queues a worker's reports so that one thread of the host shows them (PowerShell allows
/// Write* only on the pipeline thread). Complete() ends the consumer's enumeration.
/// </summary>
public sealed class WorkerEventQueue : IWorkerObserver, IDisposable
{
    private readonly BlockingCollection<WorkerEvent> _events = new();

    public IEnumerable<WorkerEvent> Consume() => _events.GetConsumingEnumerable();

    public void Complete()
    {
        try
        {
            _events.CompleteAdding();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void JobFinished(TrainingJob job) => Add(new WorkerEvent { Job = job });

    public void Verbose(string message) => Add(new WorkerEvent { Verbose = message });

    public void Warning(string message) => Add(new WorkerEvent { Warning = message });

    private void Add(WorkerEvent item)
    {
        try
        {
            _events.TryAdd(item);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            // Reported after the host stopped listening.
        }
    }

    public void Dispose() => _events.Dispose();
}
