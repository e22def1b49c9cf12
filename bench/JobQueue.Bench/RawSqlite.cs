using Microsoft.Data.Sqlite;

namespace JobQueue.Bench;

/// <summary>
/// The floor: the same work done with the leanest SQL a hand-written queue would use on the same
/// kind of file (WAL, the same synchronous setting): a minimal jobs table with one partial index
/// for the claim order, prepared statements, nothing else.
/// </summary>
internal sealed class RawSqlite : IFloor
{
    private readonly SqliteConnection _c;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _claim;
    private readonly SqliteCommand _complete;

    public RawSqlite(string path, string synchronous, bool create)
    {
        _c = new SqliteConnection($"Data Source={path};Pooling=False");
        _c.Open();
        Exec($"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; PRAGMA busy_timeout=30000;");
        if (create)
        {
            Exec("""
                CREATE TABLE IF NOT EXISTS jobs (
                  job_id INTEGER PRIMARY KEY, job_type TEXT NOT NULL, status TEXT NOT NULL, priority INTEGER NOT NULL,
                  config TEXT NOT NULL, created_at TEXT NOT NULL, started_at TEXT, completed_at TEXT, worker_id TEXT);
                CREATE INDEX IF NOT EXISTS ix_pending ON jobs (priority DESC, job_id) WHERE status = 'pending';
                """);
        }
        _insert = Prepare("INSERT INTO jobs (job_type, status, priority, config, created_at) VALUES ($t, 'pending', $p, $c, $now)", "$t", "$p", "$c", "$now");
        _claim = Prepare("UPDATE jobs SET status = 'running', started_at = $now, worker_id = $w WHERE job_id = (SELECT job_id FROM jobs WHERE status = 'pending' ORDER BY priority DESC, job_id LIMIT 1) RETURNING job_id", "$now", "$w");
        _complete = Prepare("UPDATE jobs SET status = 'completed', completed_at = $now WHERE job_id = $id", "$now", "$id");
    }

    public void Insert(string config)
    {
        _insert.Parameters["$t"].Value = "training";
        _insert.Parameters["$p"].Value = 5;
        _insert.Parameters["$c"].Value = config;
        _insert.Parameters["$now"].Value = Now();
        _insert.ExecuteNonQuery();
    }

    public void InsertMany(int count, string config)
    {
        using var tx = _c.BeginTransaction();
        _insert.Transaction = tx;
        for (var i = 0; i < count; i++) Insert(config);
        tx.Commit();
        _insert.Transaction = null;
    }

    public long? Claim(string worker)
    {
        _claim.Parameters["$now"].Value = Now();
        _claim.Parameters["$w"].Value = worker;
        var id = _claim.ExecuteScalar();
        return id is long l ? l : null;
    }

    public void Complete(long id)
    {
        _complete.Parameters["$now"].Value = Now();
        _complete.Parameters["$id"].Value = id;
        _complete.ExecuteNonQuery();
    }

    /// <summary>70% completed, 10% failed, 5% cancelled, 3% running, 12% pending (by job id), on the engine's jobs table of either backend.</summary>
    public const string MixStatusesSql = """
        UPDATE jobs SET status = CASE
            WHEN job_id % 100 < 70 THEN 'completed'
            WHEN job_id % 100 < 80 THEN 'failed'
            WHEN job_id % 100 < 85 THEN 'cancelled'
            WHEN job_id % 100 < 88 THEN 'running'
            ELSE 'pending' END,
          started_at = CASE WHEN job_id % 100 < 88 THEN created_at END,
          completed_at = CASE WHEN job_id % 100 < 85 THEN created_at END,
          worker_id = CASE WHEN job_id % 100 < 88 THEN 'bench' END
        """;

    /// <summary>Gives a queue the mix of a long-lived one: 70% completed, 10% failed, 5% cancelled, 3% running, 12% pending.</summary>
    public static void MixStatuses(string path)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA busy_timeout=30000; " + MixStatusesSql + "; PRAGMA wal_checkpoint(TRUNCATE);";
        cmd.ExecuteNonQuery();
    }

    private static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");

    private SqliteCommand Prepare(string sql, params string[] names)
    {
        var cmd = _c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var n in names) cmd.Parameters.Add(new SqliteParameter(n, null));
        return cmd;
    }

    private void Exec(string sql)
    {
        using var cmd = _c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _insert.Dispose();
        _claim.Dispose();
        _complete.Dispose();
        _c.Dispose();
    }
}
