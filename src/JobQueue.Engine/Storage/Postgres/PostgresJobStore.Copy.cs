using System.Data;
using JobQueue.Engine.Storage.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace JobQueue.Engine.Storage.Postgres;

public sealed partial class PostgresJobStore
{
    public IQueueSnapshot OpenSnapshot() => Guard(() => (IQueueSnapshot)new PostgresSnapshot(this));

    public IReadOnlyDictionary<string, long> ImportSnapshot(IQueueSnapshot snapshot, bool replace)
    {
        var counts = Import(snapshot, replace);
        WakeWorkers();
        return counts;
    }

    private IReadOnlyDictionary<string, long> Import(IQueueSnapshot snapshot, bool replace) => InTransaction((conn, tx) =>
    {
        // Nobody adds jobs between the emptiness check and the copy (readers go on).
        Sql(conn, "LOCK TABLE schedules, jobs, job_logs IN SHARE ROW EXCLUSIVE MODE", tx).ExecuteNonQuery();
        long jobs, schedules;
        using (var reader = Sql(conn, "SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM schedules)", tx).ExecuteReader())
        {
            reader.Read();
            jobs = reader.GetInt64(0);
            schedules = reader.GetInt64(1);
        }
        if (jobs + schedules > 0)
        {
            if (!replace) throw QueueTables.NotEmpty(Database, jobs, schedules);
            Sql(conn, "DELETE FROM job_logs; DELETE FROM jobs; DELETE FROM schedules;", tx).ExecuteNonQuery();
        }
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (table, key) in QueueTables.Copied)
        {
            counts[table] = CopyIn(conn, tx, table, snapshot);
            // New rows are numbered after the copied ones.
            Sql(conn,
                $"SELECT setval(seq, m) FROM (SELECT pg_get_serial_sequence('{table}', '{key}')::regclass AS seq, (SELECT max({key}) FROM {table}) AS m) AS x " +
                "WHERE m IS NOT NULL AND m > coalesce(pg_sequence_last_value(seq), 0)", tx).ExecuteNonQuery();
        }
        return (IReadOnlyDictionary<string, long>)counts;
    });

    /// <summary>Streams one table in with binary COPY, converting each value to its column's type.</summary>
    private static long CopyIn(NpgsqlConnection conn, NpgsqlTransaction tx, string table, IQueueSnapshot snapshot)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var reader = Sql(conn, $"SELECT * FROM {table} LIMIT 0", tx).ExecuteReader(CommandBehavior.SchemaOnly))
        {
            for (var i = 0; i < reader.FieldCount; i++) types[reader.GetName(i)] = reader.GetDataTypeName(i);
        }
        var theirs = snapshot.Columns(table);
        var picked = Enumerable.Range(0, theirs.Count).Where(i => types.ContainsKey(theirs[i])).ToArray();
        var columnTypes = picked.Select(i => types[theirs[i]]).ToArray();
        long rows = 0;
        using (var importer = conn.BeginBinaryImport(
                   $"COPY {table} ({string.Join(", ", picked.Select(i => Quote(theirs[i])))}) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in snapshot.Rows(table))
            {
                importer.StartRow();
                for (var k = 0; k < picked.Length; k++)
                {
                    var value = row[picked[k]];
                    try
                    {
                        WriteValue(importer, value, columnTypes[k]);
                    }
                    catch (Exception ex) when (ex is FormatException or InvalidCastException or OverflowException)
                    {
                        throw new JobQueueException(ErrorKind.CorruptData,
                            $"{table}.{theirs[picked[k]]} of row {row[0]} in '{snapshot.Database}' holds '{value}', which is not a {columnTypes[k]}; nothing was copied.",
                            snapshot.Database, ex);
                    }
                }
                rows++;
            }
            importer.Complete();
        }
        return rows;
    }

    private static void WriteValue(NpgsqlBinaryImporter importer, object? value, string type)
    {
        if (value is null or DBNull)
        {
            importer.WriteNull();
            return;
        }
        switch (type)
        {
            case "bigint": importer.Write(CopyValues.ToLong(value), NpgsqlDbType.Bigint); break;
            case "integer": importer.Write(checked((int)CopyValues.ToLong(value)), NpgsqlDbType.Integer); break;
            case "smallint": importer.Write(checked((short)CopyValues.ToLong(value)), NpgsqlDbType.Smallint); break;
            case "double precision": importer.Write(CopyValues.ToDouble(value), NpgsqlDbType.Double); break;
            case "real": importer.Write((float)CopyValues.ToDouble(value), NpgsqlDbType.Real); break;
            case "boolean": importer.Write(CopyValues.ToBool(value), NpgsqlDbType.Boolean); break;
            case "timestamp with time zone": importer.Write(CopyValues.ToUtc(value), NpgsqlDbType.TimestampTz); break;
            case "json": importer.Write(CopyValues.ToText(value), NpgsqlDbType.Json); break;
            case "jsonb": importer.Write(CopyValues.ToText(value), NpgsqlDbType.Jsonb); break;
            default: importer.Write(PostgresText.Encode(CopyValues.ToText(value)), NpgsqlDbType.Text); break;
        }
    }

    private static string Quote(string column) => "\"" + column.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// Backup-JobQueue of a PostgreSQL queue: one consistent snapshot written to a new SQLite file,
    /// which Copy-JobQueue can load back into PostgreSQL. For server-side backups use pg_dump.
    /// </summary>
    public void Backup(string destinationPath)
    {
        using var target = new SqliteJobStore(destinationPath);
        using var snapshot = OpenSnapshot();
        target.ImportSnapshot(snapshot, replace: false);
    }

    /// <summary>A REPEATABLE READ, READ ONLY transaction on a connection of its own: one view of every table.</summary>
    private sealed class PostgresSnapshot : IQueueSnapshot
    {
        private readonly PostgresJobStore _store;
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlTransaction _tx;

        public PostgresSnapshot(PostgresJobStore store)
        {
            _store = store;
            _connection = store.Source.OpenConnection();
            try
            {
                _tx = _connection.BeginTransaction(IsolationLevel.RepeatableRead);
                Sql(_connection, "SET TRANSACTION READ ONLY", _tx).ExecuteNonQuery();
            }
            catch
            {
                _connection.Dispose();
                throw;
            }
        }

        public string Database => _store.Database;

        public IReadOnlyList<string> Columns(string table)
        {
            try
            {
                using var reader = Sql(_connection, $"SELECT * FROM {Checked(table).Table} LIMIT 0", _tx).ExecuteReader(CommandBehavior.SchemaOnly);
                return Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
            }
            catch (NpgsqlException ex)
            {
                throw PostgresErrors.Translate(ex, Database);
            }
        }

        public IEnumerable<object?[]> Rows(string table) =>
            CopyValues.Guarded(ReadRows(Checked(table)), ex => ex is NpgsqlException or TimeoutException ? PostgresErrors.Translate(ex, Database) : null);

        private IEnumerable<object?[]> ReadRows((string Table, string Key) table)
        {
            using var cmd = Sql(_connection, $"SELECT * FROM {table.Table} ORDER BY {table.Key}", _tx);
            using var reader = cmd.ExecuteReader();
            var text = Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetDataTypeName(i) == "text").ToArray();
            while (reader.Read())
            {
                var row = new object?[reader.FieldCount];
                for (var i = 0; i < row.Length; i++)
                {
                    row[i] = reader.IsDBNull(i) ? null : text[i] ? PostgresText.Decode(reader.GetString(i)) : reader.GetValue(i);
                }
                yield return row;
            }
        }

        private static (string Table, string Key) Checked(string table) =>
            QueueTables.Copied.FirstOrDefault(t => t.Table == table) is { Table: not null } found
                ? found
                : throw new ArgumentException($"'{table}' is not a table a copy reads.", nameof(table));

        public void Dispose()
        {
            _tx.Dispose();
            _connection.Dispose();
        }
    }
}
