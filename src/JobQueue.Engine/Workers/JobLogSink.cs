using System.Collections.Concurrent;
using JobQueue.Engine.Storage;

namespace JobQueue.Engine.Workers;

/// <summary>
/// Writes the log lines of a worker's jobs from one thread, in the order they arrived. A line is
/// written as soon as the writer is free (no timer), so a quiet trainer's lines show at once;
/// under load the lines that queued up meanwhile go in one transaction. The queue is bounded:
/// a trainer that prints faster than the database takes lines is slowed down by its pipe, as it
/// would be by a terminal, instead of filling memory.
/// </summary>
internal sealed class JobLogSink : IDisposable
{
    private const int MaxBatch = 500;
    private const int MaxLineLength = 16_000;

    private readonly IJobStore _store;
    private readonly Action<string> _warn;
    private readonly BlockingCollection<NewLogEntry> _queue = new(new ConcurrentQueue<NewLogEntry>(), 10_000);
    private readonly object _addGate = new();
    private readonly object _writtenGate = new();
    private readonly Thread _writer;
    private long _enqueued;
    private long _written;
    private bool _warned;

    public JobLogSink(IJobStore store, Action<string> warn)
    {
        _store = store;
        _warn = warn;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "JobQueue log writer" };
        _writer.Start();
    }

    public void Add(long jobId, int attempt, JobLogLevel level, string message)
    {
        if (message.Length > MaxLineLength) message = message[..MaxLineLength] + " [line truncated]";
        var entry = new NewLogEntry(jobId, level, message, DateTimeOffset.UtcNow, attempt);
        lock (_addGate)
        {
            if (_queue.IsAddingCompleted) return;
            _enqueued++;
            _queue.Add(entry);
        }
    }

    /// <summary>Waits until every line added before this call is in the database (or the wait times out).</summary>
    public void Flush(TimeSpan timeout)
    {
        long target;
        lock (_addGate) target = _enqueued;
        var deadline = DateTime.UtcNow + timeout;
        lock (_writtenGate)
        {
            while (_written < target)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !_writer.IsAlive) return;
                Monitor.Wait(_writtenGate, left);
            }
        }
    }

    private void WriteLoop()
    {
        var batch = new List<NewLogEntry>(MaxBatch);
        foreach (var first in _queue.GetConsumingEnumerable())
        {
            batch.Clear();
            batch.Add(first);
            while (batch.Count < MaxBatch && _queue.TryTake(out var more)) batch.Add(more);
            Write(batch);
            lock (_writtenGate)
            {
                _written += batch.Count;
                Monitor.PulseAll(_writtenGate);
            }
        }
    }

    private void Write(List<NewLogEntry> batch)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                _store.AddLogs(batch);
                return;
            }
            catch (JobQueueException ex) when (ex.Kind == ErrorKind.DatabaseUnavailable && attempt < 3)
            {
                Thread.Sleep(500 * (attempt + 1));
            }
            catch (JobQueueException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
        // One bad line (its job was removed meanwhile) must not lose the others.
        foreach (var entry in batch)
        {
            try
            {
                _store.AddLogs(new[] { entry });
            }
            catch (Exception ex) when (ex is JobQueueException or ObjectDisposedException)
            {
                if (!_warned)
                {
                    _warned = true;
                    _warn($"Could not store a log line of job {entry.JobId}: {ex.Message}");
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_addGate) _queue.CompleteAdding();
        _writer.Join(TimeSpan.FromSeconds(30));
        _queue.Dispose();
    }
}
