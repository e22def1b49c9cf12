using Microsoft.Data.Sqlite;

namespace JobQueue.Engine.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    private const string InsertLogSql =
        "INSERT INTO job_logs (job_id, timestamp, level, message, attempt) VALUES ($job, $ts, $level, $message, $attempt)";

    public long AddLog(long jobId, JobLogLevel level, string message, DateTimeOffset now, int? attempt = null) => Guard(() =>
        InsertLog(new NewLogEntry(jobId, level, message, now, attempt), null));

    public void AddLogs(IReadOnlyList<NewLogEntry> entries) => Guard(() =>
    {
        using var tx = BeginWrite();
        foreach (var entry in entries) InsertLog(entry, tx);
        tx.Commit();
        return 0;
    });

    private long InsertLog(NewLogEntry entry, SqliteTransaction? tx)
    {
        var cmd = Command(InsertLogSql, tx);
        cmd.Parameters["$job"].Value = entry.JobId;
        cmd.Parameters["$ts"].Value = Timestamps.ToText(entry.Timestamp);
        cmd.Parameters["$level"].Value = entry.Level.ToDb();
        cmd.Parameters["$message"].Value = entry.Message;
        cmd.Parameters["$attempt"].Value = Db(entry.Attempt);
        try
        {
            cmd.ExecuteNonQuery();
            // The connection's lock is held, so its last rowid is this line's.
            return SQLitePCL.raw.sqlite3_last_insert_rowid(_connection.Handle!);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
        {
            throw JobNotFound(entry.JobId);
        }
    }

    public IReadOnlyList<JobLogEntry> GetLogs(LogQuery query) => Guard(() =>
    {
        var levelFilter = query.Levels is { Count: > 0 } levels ? " AND level IN " + InList("lv", levels.Count) : "";
        var inner = "SELECT log_id, job_id, timestamp, level, message, attempt FROM job_logs WHERE job_id = $job AND log_id > $after" + levelFilter;
        var sql = query.Tail is not null
            ? $"SELECT * FROM ({inner} ORDER BY log_id DESC LIMIT $tail) ORDER BY log_id"
            : inner + " ORDER BY log_id";
        var cmd = Command(sql);
        cmd.Parameters["$job"].Value = query.JobId;
        cmd.Parameters["$after"].Value = query.AfterLogId;
        if (query.Tail is { } tail) cmd.Parameters["$tail"].Value = tail;
        if (query.Levels is { Count: > 0 } lv)
        {
            for (var i = 0; i < lv.Count; i++) cmd.Parameters[$"$lv{i}"].Value = lv[i].ToDb();
        }
        var entries = new List<JobLogEntry>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            entries.Add(new JobLogEntry
            {
                LogId = reader.GetInt64(0),
                JobId = reader.GetInt64(1),
                Timestamp = Timestamps.ToLocal(reader.GetString(2))!.Value,
                Level = EnumText.ParseLevel(reader.GetString(3)),
                Message = reader.GetString(4),
                Attempt = reader.IsDBNull(5) ? null : reader.GetInt32(5),
            });
        }
        return (IReadOnlyList<JobLogEntry>)entries;
    });

    public void Backup(string destinationPath) => Guard(() =>
    {
        // VACUUM INTO reads one consistent snapshot while workers keep writing (WAL).
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = "VACUUM INTO $dest";
        cmd.Parameters.AddWithValue("$dest", destinationPath);
        cmd.ExecuteNonQuery();
        return 0;
    });
}
