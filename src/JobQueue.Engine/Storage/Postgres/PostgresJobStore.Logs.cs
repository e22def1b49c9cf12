using Npgsql;
using NpgsqlTypes;

namespace JobQueue.Engine.Storage.Postgres;

public sealed partial class PostgresJobStore
{
    private const string InsertLogSql =
        "INSERT INTO job_logs (job_id, \"timestamp\", level, message, attempt) VALUES (@job, @ts, @level, @message, @attempt) RETURNING log_id";

    // A worker hands over a burst of output lines at once: one statement, ids in line order.
    private const string InsertLogBatchSql =
        "INSERT INTO job_logs (job_id, \"timestamp\", level, message, attempt) " +
        "SELECT t.job_id, t.ts, t.level, t.message, t.attempt FROM unnest(@jobs, @stamps, @levels, @messages, @attempts) WITH ORDINALITY " +
        "AS t(job_id, ts, level, message, attempt, ord) ORDER BY t.ord";

    private const string LogColumns = "log_id, job_id, \"timestamp\", level, message, attempt";

    public long AddLog(long jobId, JobLogLevel level, string message, DateTimeOffset now, int? attempt = null) => Run(conn =>
    {
        using var cmd = Sql(conn, InsertLogSql)
            .Arg("job", jobId)
            .Arg("ts", Utc(now))
            .Arg("level", level.ToDb())
            .Arg("message", PostgresText.Encode(message))
            .Arg("attempt", attempt, NpgsqlDbType.Integer);
        try
        {
            return (long)cmd.ExecuteScalar()!;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw JobNotFound(jobId);
        }
    });

    public void AddLogs(IReadOnlyList<NewLogEntry> entries)
    {
        if (entries.Count == 0) return;
        Run(conn =>
        {
            using var cmd = Sql(conn, InsertLogBatchSql)
                .Arg("jobs", entries.Select(e => e.JobId).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint)
                .Arg("stamps", entries.Select(e => Utc(e.Timestamp)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
                .Arg("levels", entries.Select(e => e.Level.ToDb()).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("messages", PostgresText.Encode(entries.Select(e => e.Message)), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("attempts", entries.Select(e => e.Attempt).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer);
            try
            {
                return cmd.ExecuteNonQuery();
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                // One statement: nothing was written. Name a job that is really missing.
                var missing = entries.Select(e => e.JobId).Distinct().FirstOrDefault(id => GetJob(conn, null, id, lockRow: false) is null);
                throw JobNotFound(missing == 0 ? entries[0].JobId : missing);
            }
        });
    }

    public IReadOnlyList<JobLogEntry> GetLogs(LogQuery query) => Run(conn =>
    {
        var byLevel = query.Levels is { Count: > 0 };
        var inner = $"SELECT {LogColumns} FROM job_logs WHERE job_id = @job AND log_id > @after" + (byLevel ? " AND level = ANY(@levels)" : "");
        var sql = query.Tail is not null
            ? $"SELECT * FROM ({inner} ORDER BY log_id DESC LIMIT @tail) AS tail ORDER BY log_id"
            : inner + " ORDER BY log_id";
        using var cmd = Sql(conn, sql).Arg("job", query.JobId).Arg("after", query.AfterLogId);
        if (query.Tail is { } tail) cmd.Arg("tail", tail);
        if (byLevel) cmd.Arg("levels", query.Levels!.Select(l => l.ToDb()).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        var entries = new List<JobLogEntry>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            entries.Add(new JobLogEntry
            {
                LogId = reader.GetInt64(0),
                JobId = reader.GetInt64(1),
                Timestamp = LocalTime(reader, 2)!.Value,
                Level = EnumText.ParseLevel(reader.GetString(3)),
                Message = PostgresText.Decode(reader.GetString(4))!,
                Attempt = reader.IsDBNull(5) ? null : reader.GetInt32(5),
            });
        }
        return (IReadOnlyList<JobLogEntry>)entries;
    });
}
