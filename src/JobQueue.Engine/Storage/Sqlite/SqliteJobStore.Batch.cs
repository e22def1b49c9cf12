using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace JobQueue.Engine.Storage.Sqlite;

/// <summary>
/// The batch insert (piped Submit-TrainingJob, SubmitBatch). Per row it does what SQLite itself
/// must do and little else: rows go in 64 to a statement, through SQLite's C API so that a value
/// already bound in its slot (the batch's timestamp, a type or config shared by many jobs) is not
/// converted and bound again, and the per-row counter trigger stands aside while the batch adds
/// its counts once per job type, in the same transaction.
/// </summary>
public sealed partial class SqliteJobStore
{
    private const int RowsPerStatement = 64;

    /// <summary>Below this many rows the trigger counts them; above, one upsert per type is cheaper.</summary>
    private const int CountOnceFrom = 8;

    private const string InsertColumns =
        "INSERT INTO jobs (job_type, status, priority, config, created_at, max_retries, name, command, timeout_seconds, gpu_count, not_before, schedule_id, scheduled_for) VALUES ";

    private BatchInsert? _insertMany;
    private BatchInsert? _insertOne;

    public IReadOnlyList<long> InsertBatch(IReadOnlyList<NewJob> jobs, DateTimeOffset now) => Guard(() =>
    {
        var ids = new long[jobs.Count];
        if (ids.Length == 0) return (IReadOnlyList<long>)ids;
        var stamp = Timestamps.ToText(now);
        var db = _connection.Handle!;
        var countOnce = ids.Length >= CountOnceFrom;
        using var tx = BeginWrite();
        if (countOnce)
        {
            // Seen only inside this transaction: the insert trigger's WHEN clause (schema step 3).
            Command("INSERT INTO jobqueue_settings (key, value) VALUES ('batch_counts_pending', '1')", tx).ExecuteNonQuery();
        }
        var many = _insertMany ??= new BatchInsert(db, RowsPerStatement);
        var one = _insertOne ??= new BatchInsert(db, 1);
        long first = 0;
        try
        {
            for (var done = 0; done < ids.Length;)
            {
                var statement = ids.Length - done >= RowsPerStatement ? many : one;
                for (var row = 0; row < statement.Rows; row++) statement.Bind(row, jobs[done + row], stamp);
                statement.Execute();
                // The transaction holds the write lock and rowids are max + 1, so ids are consecutive.
                if (done == 0) first = raw.sqlite3_last_insert_rowid(db) - (statement.Rows - 1);
                done += statement.Rows;
            }
        }
        catch
        {
            many.Forget();
            one.Forget();
            throw;
        }
        if (raw.sqlite3_last_insert_rowid(db) != first + ids.Length - 1)
        {
            throw new InvalidOperationException("The batch's job ids are not consecutive; nothing was written.");
        }
        for (var i = 0; i < ids.Length; i++) ids[i] = first + i;

        if (countOnce)
        {
            var count = Command(
                "INSERT INTO job_counts (job_type, status, n) VALUES ($type, 'active', $n) " +
                "ON CONFLICT (job_type, status) DO UPDATE SET n = n + excluded.n", tx);
            foreach (var (type, n) in CountByType(jobs))
            {
                count.Parameters["$type"].Value = type;
                count.Parameters["$n"].Value = n;
                count.ExecuteNonQuery();
            }
            Command("DELETE FROM jobqueue_settings WHERE key = 'batch_counts_pending'", tx).ExecuteNonQuery();
        }
        tx.Commit();
        return (IReadOnlyList<long>)ids;
    });

    private static Dictionary<string, long> CountByType(IReadOnlyList<NewJob> jobs)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        string? lastType = null;
        long run = 0;
        foreach (var job in jobs)
        {
            // Runs of one type (the usual batch) cost a reference comparison per job.
            if (ReferenceEquals(job.JobType, lastType))
            {
                run++;
                continue;
            }
            if (lastType is not null) counts[lastType] = counts.GetValueOrDefault(lastType) + run;
            lastType = job.JobType;
            run = 1;
        }
        counts[lastType!] = counts.GetValueOrDefault(lastType!) + run;
        return counts;
    }

    private void DisposeBatchStatements()
    {
        _insertMany?.Dispose();
        _insertOne?.Dispose();
    }

    /// <summary>
    /// A prepared INSERT of <see cref="Rows"/> jobs. SQLite keeps bindings across sqlite3_reset, so
    /// each slot remembers what it holds and a value equal to it is not bound again.
    /// </summary>
    private sealed class BatchInsert : IDisposable
    {
        private const int Columns = 12;
        private const byte Unknown = 0, Null = 1, Text = 2, Integer = 3, Real = 4;

        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _statement;
        private readonly byte[] _kind;
        private readonly string?[] _text;
        private readonly long[] _integer;
        private readonly double[] _real;
        private byte[] _utf8 = new byte[256];

        public BatchInsert(sqlite3 db, int rows)
        {
            _db = db;
            Rows = rows;
            var sql = new StringBuilder(InsertColumns);
            for (var row = 0; row < rows; row++)
            {
                var b = row * Columns + 1;
                if (row > 0) sql.Append(',');
                sql.Append($"(?{b},'pending',?{b + 1},?{b + 2},?{b + 3},?{b + 4},?{b + 5},?{b + 6},?{b + 7},?{b + 8},?{b + 9},?{b + 10},?{b + 11})");
            }
            Check(raw.sqlite3_prepare_v2(db, sql.ToString(), out _statement));
            var slots = rows * Columns + 1;
            _kind = new byte[slots];
            _text = new string?[slots];
            _integer = new long[slots];
            _real = new double[slots];
        }

        public int Rows { get; }

        public void Bind(int row, NewJob job, string now)
        {
            var b = row * Columns + 1;
            BindText(b, job.JobType);
            BindInteger(b + 1, job.Priority);
            BindText(b + 2, job.ConfigJson);
            BindText(b + 3, now);
            BindInteger(b + 4, job.MaxRetries);
            BindText(b + 5, job.Name);
            BindText(b + 6, job.Command is null ? null : ConfigJson.CommandToJson(job.Command));
            BindReal(b + 7, job.Timeout?.TotalSeconds);
            BindInteger(b + 8, job.GpuCount);
            BindText(b + 9, job.NotBefore is { } nb ? Timestamps.ToText(nb) : null);
            if (job.ScheduleId is { } sid) BindInteger(b + 10, sid); else BindNull(b + 10);
            BindText(b + 11, job.ScheduledFor is { } sf ? Timestamps.ToText(sf) : null);
        }

        public void Execute()
        {
            var rc = raw.sqlite3_step(_statement);
            raw.sqlite3_reset(_statement);
            if (rc != raw.SQLITE_DONE)
            {
                Forget();
                SqliteException.ThrowExceptionForRC(rc, _db);
            }
        }

        /// <summary>After a failure: nothing is assumed about the slots any more.</summary>
        public void Forget()
        {
            raw.sqlite3_clear_bindings(_statement);
            Array.Clear(_kind);
            Array.Clear(_text);
        }

        private void BindText(int slot, string? value)
        {
            if (value is null)
            {
                BindNull(slot);
                return;
            }
            if (_kind[slot] == Text && ReferenceEquals(_text[slot], value)) return;
            // Encoded here with its length (SQLite copies it), so text with a NUL stays whole and no array is made per value.
            var length = Encoding.UTF8.GetMaxByteCount(value.Length);
            if (_utf8.Length < length) _utf8 = new byte[Math.Max(length, _utf8.Length * 2)];
            var written = Encoding.UTF8.GetBytes(value, _utf8);
            Check(raw.sqlite3_bind_text(_statement, slot, _utf8.AsSpan(0, written)));
            _kind[slot] = Text;
            _text[slot] = value;
        }

        private void BindInteger(int slot, long value)
        {
            if (_kind[slot] == Integer && _integer[slot] == value) return;
            Check(raw.sqlite3_bind_int64(_statement, slot, value));
            _kind[slot] = Integer;
            _integer[slot] = value;
            _text[slot] = null;
        }

        private void BindReal(int slot, double? value)
        {
            if (value is not { } v)
            {
                BindNull(slot);
                return;
            }
            if (_kind[slot] == Real && _real[slot].Equals(v)) return;
            Check(raw.sqlite3_bind_double(_statement, slot, v));
            _kind[slot] = Real;
            _real[slot] = v;
            _text[slot] = null;
        }

        private void BindNull(int slot)
        {
            if (_kind[slot] == Null) return;
            Check(raw.sqlite3_bind_null(_statement, slot));
            _kind[slot] = Null;
            _text[slot] = null;
        }

        private void Check(int rc)
        {
            if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _db);
        }

        public void Dispose() => _statement.Dispose();
    }
}
