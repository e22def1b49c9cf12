using System.Text;
using Microsoft.Data.Sqlite;

namespace JobQueue.Engine.Storage.Sqlite;

/// <summary>
/// The embedded driver: one SQLite file in WAL mode. One connection per store, guarded by a lock,
/// with its commands prepared once and reused. Writes that read first use BEGIN IMMEDIATE so two
/// processes never deadlock on a lock upgrade ("database is locked").
/// </summary>
public sealed partial class SqliteJobStore : IJobStore
{
    internal const int BusyTimeoutMs = 30_000;

    private readonly object _gate = new();
    private readonly SqliteConnection _connection;
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RowStatement> _rowStatements = new(StringComparer.Ordinal);
    private bool _disposed;

    public SqliteJobStore(string path)
    {
        Path = FullPath(path);
        Database = Path;
        SqliteFile.EnsureCreatable(Path);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString());
        try
        {
            Guard(() =>
            {
                _connection.Open();
                SqliteBusyHandler.Install(_connection);
                // temp_store: the rows a RETURNING statement (claim, completion, submission) gives
                // back are buffered in a temporary table. Kept in a file-backed temporary database,
                // its page cache is allocated and freed by every statement, and once other
                // connections write in between, the C allocator hands those pages back to the
                // system and takes them again each time (page faults that cut drains by 40%).
                Execute("PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;");
                Migrate();
                EnsureWal();
                ApplyDurability(ReadDurability());
                return 0;
            });
            OpenHeaderHandle();
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    public string Path { get; }

    private static string FullPath(string path)
    {
        try
        {
            return System.IO.Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new JobQueueException(ErrorKind.DatabaseNotWritable,
                $"The database path '{JobClient.Printable(path)}' is not a valid file path: {ex.Message}", null, ex);
        }
    }

    public string Database { get; }

    public string Backend => "SQLite";

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var command in _commands.Values) command.Dispose();
            _commands.Clear();
            foreach (var statement in _rowStatements.Values) statement.Dispose();
            _rowStatements.Clear();
            DisposeBatchStatements();
            _connection.Dispose();
            _headerHandle?.Dispose();
        }
    }

    // ---- schema ---------------------------------------------------------------------------

    private void Migrate()
    {
        var version = ScalarInt("PRAGMA user_version");
        var appId = ScalarInt("PRAGMA application_id");
        if (appId != 0 && appId != SqliteMigrations.ApplicationId)
        {
            throw NotOurs();
        }
        if (version > SqliteMigrations.LatestVersion)
        {
            throw new JobQueueException(ErrorKind.SchemaTooNew,
                $"The database '{Path}' has schema version {version}, made by a newer JobQueue; this version understands up to {SqliteMigrations.LatestVersion}. Upgrade the module; the file was not changed.",
                Path);
        }
        if (version == SqliteMigrations.LatestVersion && appId == SqliteMigrations.ApplicationId)
        {
            return;
        }
        if (appId == 0 && ScalarInt("SELECT count(*) FROM sqlite_schema") > 0)
        {
            throw NotOurs();
        }

        using var tx = _connection.BeginTransaction(deferred: false);
        version = ScalarInt("PRAGMA user_version", tx);
        for (var step = version; step < SqliteMigrations.LatestVersion; step++)
        {
            Execute(SqliteMigrations.Steps[step], tx);
        }
        Execute($"PRAGMA application_id = {SqliteMigrations.ApplicationId}; PRAGMA user_version = {SqliteMigrations.LatestVersion};", tx);
        tx.Commit();
    }

    private JobQueueException NotOurs() => new(ErrorKind.NotAJobQueueDatabase,
        $"The file '{Path}' is an SQLite database, but not a JobQueue database. Choose another path; the file was not changed.", Path);

    private void EnsureWal()
    {
        if (!string.Equals(ScalarString("PRAGMA journal_mode"), "wal", StringComparison.OrdinalIgnoreCase))
        {
            ScalarString("PRAGMA journal_mode = WAL");
        }
    }

    private Durability ReadDurability()
    {
        var text = ScalarString("SELECT value FROM jobqueue_settings WHERE key = 'durability'");
        return Enum.TryParse<Durability>(text, true, out var durability) ? durability : Durability.Normal;
    }

    private void ApplyDurability(Durability durability)
    {
        CurrentDurability = durability;
        Execute(durability == Durability.Full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    }

    private Durability CurrentDurability { get; set; }

    public void SetDurability(Durability durability) => Guard(() =>
    {
        var cmd = Command("INSERT INTO jobqueue_settings (key, value) VALUES ('durability', $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        cmd.Parameters["$v"].Value = durability.ToString();
        cmd.ExecuteNonQuery();
        ApplyDurability(durability);
        return 0;
    });

    public JobQueueInfo Describe() => Guard(() => new JobQueueInfo
    {
        Database = Path,
        Backend = Backend,
        SchemaVersion = ScalarInt("PRAGMA user_version"),
        JournalMode = ScalarString("PRAGMA journal_mode") ?? "",
        Durability = CurrentDurability.ToString(),
        Jobs = ScalarLong("SELECT count(*) FROM jobs"),
        Schedules = ScalarLong("SELECT count(*) FROM schedules"),
    });

    // ---- plumbing -------------------------------------------------------------------------

    /// <summary>Runs <paramref name="action"/> under the connection lock and turns SQLite failures into user errors.</summary>
    internal T Guard<T>(Func<T> action)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                return action();
            }
            catch (SqliteException ex)
            {
                throw SqliteErrors.Translate(ex, Path);
            }
        }
    }

    /// <summary>A prepared command for <paramref name="sql"/>, made once per connection. Parameters are named $p.</summary>
    internal SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        if (!_commands.TryGetValue(sql, out var cmd))
        {
            cmd = _connection.CreateCommand();
            cmd.CommandText = sql;
            foreach (var name in ParameterNames(sql))
            {
                cmd.Parameters.Add(new SqliteParameter(name, null));
            }
            _commands[sql] = cmd;
        }
        cmd.Transaction = tx;
        foreach (SqliteParameter p in cmd.Parameters) p.Value = DBNull.Value;
        return cmd;
    }

    /// <summary>A statement that returns one job row, run through the C API (<see cref="RowStatement"/>); made once per connection.</summary>
    internal RowStatement RowCommand(string sql)
    {
        if (!_rowStatements.TryGetValue(sql, out var statement))
        {
            statement = new RowStatement(_connection.Handle!, sql);
            _rowStatements[sql] = statement;
        }
        return statement;
    }

    private static IEnumerable<string> ParameterNames(string sql)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < sql.Length; i++)
        {
            if (sql[i] != '$') continue;
            var j = i + 1;
            while (j < sql.Length && (char.IsLetterOrDigit(sql[j]) || sql[j] == '_')) j++;
            if (j > i + 1 && seen.Add(sql[i..j])) yield return sql[i..j];
            i = j - 1;
        }
    }

    internal void Execute(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        return cmd.ExecuteScalar();
    }

    internal int ScalarInt(string sql, SqliteTransaction? tx = null) => Convert.ToInt32(Scalar(sql, tx) ?? 0);

    internal long ScalarLong(string sql, SqliteTransaction? tx = null) => Convert.ToInt64(Scalar(sql, tx) ?? 0L);

    internal string? ScalarString(string sql, SqliteTransaction? tx = null) => Scalar(sql, tx) as string;

    internal SqliteTransaction BeginWrite() => _connection.BeginTransaction(deferred: false);

    internal static object Db(object? value) => value ?? DBNull.Value;

    internal static string InList(string prefix, int count)
    {
        var sb = new StringBuilder("(");
        for (var i = 0; i < count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append('$').Append(prefix).Append(i);
        }
        return sb.Append(')').ToString();
    }
}
