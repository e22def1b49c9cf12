using Npgsql;

namespace JobQueue.Engine.Storage.Postgres;

/// <summary>
/// The multi-machine driver: one PostgreSQL database shared by every host's workers. Each call
/// borrows a connection from an Npgsql pool (NpgsqlDataSource), so worker threads run side by
/// side; statements are prepared automatically after a few uses. Claims use FOR UPDATE SKIP
/// LOCKED, and every change to a job runs in a transaction that locks its row first.
/// </summary>
public sealed partial class PostgresJobStore : IJobStore
{
    private readonly object _sourceGate = new();
    private readonly NpgsqlConnectionStringBuilder _settings;
    private readonly List<NpgsqlDataSource> _retired = new();
    private NpgsqlDataSource _source;
    private NpgsqlDataSource? _notifySource;
    private bool _disposed;

    static PostgresJobStore()
    {
        // Npgsql writes DateTime.MinValue and MaxValue as -infinity and infinity by default. Here
        // they are real instants (-NotBefore [datetime]::MinValue), kept as 0001-01-01 and
        // 9999-12-31 as SQLite keeps them, so hand-written SQL and Copy-JobQueue see the same.
        AppContext.SetSwitch("Npgsql.DisableDateTimeInfinityConversions", true);
    }

    public PostgresJobStore(string database) : this(PostgresConnectionString.Parse(database))
    {
    }

    public PostgresJobStore(PostgresConnectionString connection)
    {
        Database = connection.Display;
        _settings = WithDefaults(connection.Settings);
        _source = Build(null);
        try
        {
            Run(conn =>
            {
                Migrate(conn);
                return 0;
            });
            if (Run(ReadDurability) is { } durability) UseDurability(durability);
        }
        catch
        {
            _source.Dispose();
            throw;
        }
    }

    /// <summary>The connection string or URI as the user gave it, with any password masked.</summary>
    public string Database { get; }

    public string Backend => "PostgreSQL";

    public void Dispose()
    {
        lock (_sourceGate)
        {
            if (_disposed) return;
            _disposed = true;
            _source.Dispose();
            _notifySource?.Dispose();
            foreach (var old in _retired) old.Dispose();
            _retired.Clear();
        }
    }

    private static NpgsqlConnectionStringBuilder WithDefaults(NpgsqlConnectionStringBuilder given)
    {
        var settings = new NpgsqlConnectionStringBuilder(given.ConnectionString);
        bool Given(string keyword) => given.ConnectionString.Contains(keyword + "=", StringComparison.OrdinalIgnoreCase);
        if (string.IsNullOrEmpty(settings.ApplicationName)) settings.ApplicationName = "JobQueue";
        // The same few statements run over and over: let Npgsql prepare them (users behind an
        // old pgbouncer can set Max Auto Prepare=0).
        if (!Given("Max Auto Prepare"))
        {
            settings.MaxAutoPrepare = 32;
            settings.AutoPrepareMinUsages = 2;
        }
        // JobQueue leaves no session state behind (its advisory lock ends with its transaction),
        // so a pooled connection needs no reset round trip when it is handed out again.
        if (!Given("No Reset On Close")) settings.NoResetOnClose = true;
        return settings;
    }

    private NpgsqlDataSource Build(Durability? durability)
    {
        var settings = new NpgsqlConnectionStringBuilder(_settings.ConnectionString);
        if (durability is { } d)
        {
            // Per-session setting, applied when each pooled connection starts.
            var option = "-c synchronous_commit=" + (d == Durability.Full ? "on" : "off");
            settings.Options = string.IsNullOrWhiteSpace(settings.Options) ? option : settings.Options + " " + option;
        }
        return new NpgsqlDataSourceBuilder(settings.ConnectionString).Build();
    }

    // ---- schema ---------------------------------------------------------------------------

    private void Migrate(NpgsqlConnection conn)
    {
        var version = SchemaVersion(conn, null);
        if (version == PostgresMigrations.LatestVersion) return;
        if (version > PostgresMigrations.LatestVersion) throw TooNew(version);
        try
        {
            using var tx = conn.BeginTransaction();
            // Two processes initialising at once: the second waits here, then finds the work done.
            Sql(conn, "SELECT pg_advisory_xact_lock(@key)", tx).Arg("key", PostgresMigrations.AdvisoryLockKey).ExecuteNonQuery();
            Sql(conn, $"CREATE TABLE IF NOT EXISTS {PostgresMigrations.VersionTable} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", tx)
                .ExecuteNonQuery();
            version = SchemaVersion(conn, tx);
            if (version > PostgresMigrations.LatestVersion) throw TooNew(version);
            if (version == 0 && (bool)Sql(conn, "SELECT to_regclass('jobs') IS NOT NULL", tx).ExecuteScalar()!)
            {
                throw new JobQueueException(ErrorKind.NotAJobQueueDatabase,
                    $"The PostgreSQL database '{Database}' already has a table 'jobs' that JobQueue did not make. Use another database (or schema, with Search Path); nothing was changed.",
                    Database);
            }
            for (var step = version; step < PostgresMigrations.LatestVersion; step++)
            {
                Sql(conn, PostgresMigrations.Steps[step], tx).ExecuteNonQuery();
                Sql(conn, $"INSERT INTO {PostgresMigrations.VersionTable} (version) VALUES (@v)", tx).Arg("v", step + 1).ExecuteNonQuery();
            }
            tx.Commit();
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new JobQueueException(ErrorKind.DatabaseNotWritable,
                $"Cannot create or upgrade the JobQueue tables in '{Database}': {ex.MessageText}. The first Initialize-JobQueue (and each upgrade) needs a role with CREATE on the schema, such as the database owner; other roles need only SELECT, INSERT, UPDATE and DELETE afterwards.",
                Database, ex, "PostgresPermissionDenied");
        }
    }

    /// <summary>The applied schema version: 0 for a database without JobQueue tables.</summary>
    private static int SchemaVersion(NpgsqlConnection conn, NpgsqlTransaction? tx)
    {
        var exists = (bool)Sql(conn, $"SELECT to_regclass('{PostgresMigrations.VersionTable}') IS NOT NULL", tx).ExecuteScalar()!;
        if (!exists) return 0;
        return Convert.ToInt32(Sql(conn, $"SELECT coalesce(max(version), 0) FROM {PostgresMigrations.VersionTable}", tx).ExecuteScalar());
    }

    private JobQueueException TooNew(int version) => new(ErrorKind.SchemaTooNew,
        $"The PostgreSQL database '{Database}' has schema version {version}, made by a newer JobQueue; this version understands up to {PostgresMigrations.LatestVersion}. Upgrade the module; the database was not changed.",
        Database);

    private static Durability? ReadDurability(NpgsqlConnection conn)
    {
        var text = Sql(conn, "SELECT value FROM jobqueue_settings WHERE key = 'durability'").ExecuteScalar() as string;
        return Enum.TryParse<Durability>(text, true, out var durability) ? durability : null;
    }

    private void UseDurability(Durability durability)
    {
        lock (_sourceGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // Connections already lent out finish on the old pool; it is closed with the store.
            _retired.Add(_source);
            _source = Build(durability);
        }
    }

    public void SetDurability(Durability durability)
    {
        Run(conn => Sql(conn,
                "INSERT INTO jobqueue_settings (key, value) VALUES ('durability', @v) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .Arg("v", durability.ToString()).ExecuteNonQuery());
        UseDurability(durability);
    }

    public JobQueueInfo Describe() => Run(conn =>
    {
        var jobs = ReadCounts(conn, null).Sum(c => c.N);
        using var reader = Sql(conn,
            $"SELECT (SELECT coalesce(max(version), 0) FROM {PostgresMigrations.VersionTable}), current_setting('synchronous_commit'), " +
            "(SELECT count(*) FROM schedules), current_setting('server_version')").ExecuteReader();
        reader.Read();
        var synchronousCommit = reader.GetString(1);
        return new JobQueueInfo
        {
            Database = Database,
            Backend = Backend,
            SchemaVersion = reader.GetInt32(0),
            // PostgreSQL always writes ahead to its WAL; durability is how long a commit waits for it.
            JournalMode = "wal",
            Durability = synchronousCommit == "off" ? nameof(Durability.Normal) : nameof(Durability.Full),
            SynchronousCommit = synchronousCommit,
            ServerVersion = reader.GetString(3),
            Jobs = jobs,
            Schedules = reader.GetInt64(2),
        };
    });

    // ---- plumbing -------------------------------------------------------------------------

    /// <summary>A small pool for notifications, whose sessions commit without waiting for the WAL flush.</summary>
    private NpgsqlDataSource NotifySource
    {
        get
        {
            lock (_sourceGate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_notifySource is null)
                {
                    var settings = new NpgsqlConnectionStringBuilder(_settings.ConnectionString) { MaxPoolSize = 4 };
                    settings.Options = (string.IsNullOrWhiteSpace(settings.Options) ? "" : settings.Options + " ") + "-c synchronous_commit=off";
                    _notifySource = new NpgsqlDataSourceBuilder(settings.ConnectionString).Build();
                }
                return _notifySource;
            }
        }
    }

    private NpgsqlDataSource Source
    {
        get
        {
            lock (_sourceGate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return _source;
            }
        }
    }

    /// <summary>Runs <paramref name="action"/> on a pooled connection and turns PostgreSQL failures into user errors.</summary>
    internal T Run<T>(Func<NpgsqlConnection, T> action) => Guard(() =>
    {
        using var conn = Source.OpenConnection();
        return action(conn);
    });

    /// <summary>Turns PostgreSQL and network failures of <paramref name="action"/> into user errors.</summary>
    internal T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw PostgresErrors.Translate(ex, Database);
        }
    }

    /// <summary>Runs <paramref name="action"/> in a READ COMMITTED transaction; a thrown error rolls it back.</summary>
    internal T InTransaction<T>(Func<NpgsqlConnection, NpgsqlTransaction, T> action) => Run(conn =>
    {
        using var tx = conn.BeginTransaction();
        var result = action(conn, tx);
        tx.Commit();
        return result;
    });

    internal static NpgsqlCommand Sql(NpgsqlConnection conn, string sql, NpgsqlTransaction? tx = null) => new(sql, conn, tx);

    /// <summary>A UTC instant to the millisecond, as the SQLite driver stores times.</summary>
    internal static DateTime Utc(DateTimeOffset value) =>
        new(value.UtcTicks - (value.UtcTicks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);

    internal static DateTime? Utc(DateTimeOffset? value) => value is { } v ? Utc(v) : null;

    internal static DateTime? LocalTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTime>(ordinal).ToLocalTime();
}
