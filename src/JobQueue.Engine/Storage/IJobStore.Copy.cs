namespace JobQueue.Engine.Storage;

/// <summary>Table-level access for copying a whole queue between databases (Copy-JobQueue, PostgreSQL backups).</summary>
public partial interface IJobStore
{
    /// <summary>A consistent, read-only view of the queue's tables as of now; writers go on meanwhile.</summary>
    IQueueSnapshot OpenSnapshot();

    /// <summary>
    /// Writes the snapshot's jobs, logs and schedules into this queue in one transaction, keeping
    /// their ids, and returns the row count per table. A queue that already holds jobs or
    /// schedules is refused (DestinationNotEmpty) unless <paramref name="replace"/>, which deletes them first.
    /// </summary>
    IReadOnlyDictionary<string, long> ImportSnapshot(IQueueSnapshot snapshot, bool replace);
}
