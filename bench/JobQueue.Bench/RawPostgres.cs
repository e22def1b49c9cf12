using Npgsql;
using NpgsqlTypes;

namespace JobQueue.Bench;

/// <summary>
/// The PostgreSQL floor: the same work done with the leanest SQL a hand-written queue would use
/// on the same server with the same synchronous_commit setting: a minimal jobs table with one
/// partial index for the claim order, prepared statements, a claim with FOR UPDATE SKIP LOCKED,
/// a batch as one unnest insert.
/// </summary>
internal sealed class RawPostgres : IFloor
{
    private readonly NpgsqlConnection _c;
    private readonly NpgsqlCommand _insert;
    private readonly NpgsqlCommand _insertMany;
    private readonly NpgsqlCommand _claim;
    private readonly NpgsqlCommand _complete;
    private readonly NpgsqlCommand _notify;

    public RawPostgres(string connectionString, bool synchronousCommit, bool create)
    {
        _c = new NpgsqlConnection(connectionString);
        _c.Open();
        Exec($"SET synchronous_commit = {(synchronousCommit ? "on" : "off")}");
        if (create)
        {
            Exec("""
                CREATE TABLE IF NOT EXISTS raw_jobs (
                  job_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job_type text NOT NULL, status text NOT NULL,
                  priority integer NOT NULL, config json NOT NULL, created_at timestamptz NOT NULL,
                  started_at timestamptz, completed_at timestamptz, worker_id text);
                CREATE INDEX IF NOT EXISTS ix_raw_pending ON raw_jobs (priority DESC, job_id) WHERE status = 'pending';
                """);
        }
        _insert = Prepare("INSERT INTO raw_jobs (job_type, status, priority, config, created_at) VALUES ('training', 'pending', 5, $1, now())",
            NpgsqlDbType.Json);
        _insertMany = Prepare("INSERT INTO raw_jobs (job_type, status, priority, config, created_at) SELECT 'training', 'pending', 5, c, now() FROM unnest($1) AS u(c)",
            NpgsqlDbType.Array | NpgsqlDbType.Json);
        _claim = Prepare("""
            UPDATE raw_jobs SET status = 'running', started_at = now(), worker_id = $1
            WHERE job_id = (SELECT job_id FROM raw_jobs WHERE status = 'pending' ORDER BY priority DESC, job_id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING job_id
            """, NpgsqlDbType.Text);
        _complete = Prepare("UPDATE raw_jobs SET status = 'completed', completed_at = now() WHERE job_id = $1", NpgsqlDbType.Bigint);
        _notify = Prepare("SELECT pg_notify('raw_jobs', '')");
    }

    public void Insert(string config)
    {
        _insert.Parameters[0].Value = config;
        _insert.ExecuteNonQuery();
    }

    /// <summary>The insert, then a NOTIFY after its commit (as the engine wakes idle workers): the difference is what waking costs.</summary>
    public void InsertAndNotify(string config)
    {
        Insert(config);
        _notify.ExecuteNonQuery();
    }

    public void InsertMany(int count, string config)
    {
        _insertMany.Parameters[0].Value = Enumerable.Repeat(config, count).ToArray();
        _insertMany.ExecuteNonQuery();
    }

    public long? Claim(string worker)
    {
        _claim.Parameters[0].Value = worker;
        return _claim.ExecuteScalar() is long id ? id : null;
    }

    public void Complete(long id)
    {
        _complete.Parameters[0].Value = id;
        _complete.ExecuteNonQuery();
    }

    private NpgsqlCommand Prepare(string sql, params NpgsqlDbType[] types)
    {
        var cmd = new NpgsqlCommand(sql, _c);
        foreach (var t in types) cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = t });
        cmd.Prepare();
        return cmd;
    }

    private void Exec(string sql)
    {
        using var cmd = new NpgsqlCommand(sql, _c);
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _insert.Dispose();
        _insertMany.Dispose();
        _claim.Dispose();
        _complete.Dispose();
        _notify.Dispose();
        _c.Dispose();
    }

    /// <summary>Makes an empty database on the server and returns its connection string.</summary>
    public static string CreateDatabase(string adminConnectionString, string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 9, 63)];
        using (var admin = new NpgsqlConnection(adminConnectionString))
        {
            admin.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            cmd.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = name }.ConnectionString;
    }

    public static void DropDatabase(string adminConnectionString, string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        using var admin = new NpgsqlConnection(adminConnectionString);
        admin.Open();
        using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
        cmd.ExecuteNonQuery();
    }

    public static long DatabaseSize(string connectionString)
    {
        using var c = new NpgsqlConnection(connectionString);
        c.Open();
        using var cmd = new NpgsqlCommand("SELECT pg_database_size(current_database())", c);
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>The status mix of a long-lived queue (see RawSqlite.MixStatuses), on the engine's tables.</summary>
    public static void MixStatuses(string connectionString)
    {
        using var c = new NpgsqlConnection(connectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(RawSqlite.MixStatusesSql, c) { CommandTimeout = 0 };
        cmd.ExecuteNonQuery();
        // Outside a transaction: the queue as autovacuum would leave it after such a history.
        using var vacuum = new NpgsqlCommand("VACUUM ANALYZE jobs", c) { CommandTimeout = 0 };
        vacuum.ExecuteNonQuery();
    }
}
