using JobQueue.Engine.Maintenance;

namespace JobQueue.Engine;

public sealed partial class JobClient
{
    /// <summary>
    /// One lease-rescue pass: running jobs whose worker stopped heartbeating go back to pending
    /// (a retry spent), fail (no retries left) or are cancelled (cancel requested), after their
    /// orphaned processes on this host are stopped. Workers run it periodically; a scheduler
    /// pass may call it too. Safe to call from many processes at once.
    /// </summary>
    public IReadOnlyList<RescuedJob> RescueExpiredLeases(string? rescuerId = null) =>
        new LeaseRescue(this, rescuerId).RunOnce();

    public IReadOnlyList<JobWorker> GetWorkers() => Store.ListWorkers(Clock.UtcNow);

    /// <summary>Asks a worker (in any process, on any host) to drain and stop.</summary>
    public JobWorker RequestWorkerStop(string workerId) =>
        Store.RequestWorkerStop(workerId, Clock.UtcNow)
        ?? throw new JobQueueException(ErrorKind.WorkerNotFound, $"No worker with id '{workerId}' has registered with this queue.", workerId);
}
