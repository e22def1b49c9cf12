using Microsoft.Data.Sqlite;

namespace JobQueue.Engine.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    public IQueueSnapshot OpenSnapshot() => Guard(() => (IQueueSnapshot)new SqliteSnapshot(Path));

    public IReadOnlyDictionary<string, long> ImportSnapshot(IQueueSnapshot snapshot, bool replace) => Guard(() =>
    {
        using var tx = BeginWrite();
        var jobs = ScalarLong("SELECT count(*) FROM jobs", tx);
        var schedules = ScalarLong("SELECT count(*) FROM schedules", tx);
        if (jobs + schedules > 0)
        {
            if (!replace) throw QueueTables.NotEmpty(Database, jobs, schedules);
            Execute("DELETE FROM job_logs; DELETE FROM jobs; DELETE FROM schedules;", tx);
        }
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (table, _) in QueueTables.Copied)
        {
            var mine = TableColumns(table, tx);
            var theirs = snapshot.Columns(table);
            var picked = Enumerable.Range(0, theirs.Count).Where(i => mine.Contains(theirs[i])).ToArray();
            using var insert = _connection.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = $"INSERT INTO {table} ({string.Join(", ", picked.Select(i => theirs[i]))}) " +
                $"VALUES ({string.Join(", ", picked.Select(i => "$c" + i))})";
            var parameters = picked.Select(i => insert.Parameters.Add(new SqliteParameter("$c" + i, null))).ToArray();
            insert.Prepare();
            long rows = 0;
            foreach (var row in snapshot.Rows(table))
            {
                for (var k = 0; k < picked.Length; k++) parameters[k].Value = CopyValues.ToSqlite(row[picked[k]]);
                insert.ExecuteNonQuery();
                rows++;
            }
            counts[table] = rows;
        }
        // AUTOINCREMENT remembers the highest id inserted, so new jobs are numbered after the copied ones.
        tx.Commit();
        return (IReadOnlyDictionary<string, long>)counts;
    });

    private HashSet<string> TableColumns(string table, SqliteTransaction? tx)
    {
        using var cmd = _connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>A read transaction on a connection of its own: WAL keeps its view fixed while others write.</summary>
    private sealed class SqliteSnapshot : IQueueSnapshot
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteTransaction _tx;

        public SqliteSnapshot(string path)
        {
            Database = path;
            _connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = path,
                Mode = SqliteOpenMode.ReadOnly,
                Pooling = false,
                DefaultTimeout = BusyTimeoutMs / 1000,
            }.ToString());
            try
            {
                _connection.Open();
                using (var pragma = _connection.CreateCommand())
                {
                    pragma.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutMs}";
                    pragma.ExecuteNonQuery();
                }
                _tx = _connection.BeginTransaction(deferred: true);
                // The snapshot is taken by the first read; take it now, for every table at once.
                using var first = _connection.CreateCommand();
                first.Transaction = _tx;
                first.CommandText = "SELECT count(*) FROM jobs";
                first.ExecuteScalar();
            }
            catch
            {
                _connection.Dispose();
                throw;
            }
        }

        public string Database { get; }

        public IReadOnlyList<string> Columns(string table)
        {
            using var cmd = Command($"SELECT name FROM pragma_table_info('{Checked(table)}') ORDER BY cid");
            var names = new List<string>();
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) names.Add(reader.GetString(0));
            return names;
        }

        public IEnumerable<object?[]> Rows(string table) =>
            CopyValues.Guarded(ReadRows(table), ex => ex is SqliteException s ? SqliteErrors.Translate(s, Database) : null);

        private IEnumerable<object?[]> ReadRows(string table)
        {
            var key = QueueTables.Copied.First(t => t.Table == Checked(table)).Key;
            using var cmd = Command($"SELECT * FROM {table} ORDER BY {key}");
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                yield return row;
            }
        }

        private SqliteCommand Command(string sql)
        {
            var cmd = _connection.CreateCommand();
            cmd.Transaction = _tx;
            cmd.CommandText = sql;
            return cmd;
        }

        private static string Checked(string table) =>
            QueueTables.Copied.Any(t => t.Table == table) ? table : throw new ArgumentException($"'{table}' is not a table a copy reads.", nameof(table));

        public void Dispose()
        {
            _tx.Dispose();
            _connection.Dispose();
        }
    }
}
