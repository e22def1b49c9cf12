using Npgsql;
using NpgsqlTypes;

namespace JobQueue.Engine.Storage.Postgres;

/// <summary>
/// Schedules on PostgreSQL, with the behaviour and errors of the SQLite driver. Names are unique
/// regardless of case (a unique index on lower(name)); firing is one transaction whose schedule
/// update is conditional on the next_run and updated_at it was planned from, so of two passes
/// the second waits for the first's row lock, then finds the row moved on and changes nothing.
/// </summary>
public sealed partial class PostgresJobStore
{
    private const string ScheduleColumns =
        "schedule_id, name, job_type, config::text, schedule_expr, time_zone, priority, max_retries, enabled, next_run, " +
        "last_run, created_at, updated_at, misfire_policy, overlap_policy, command::text, timeout_seconds, gpu_count";

    private const string DefinitionAssignments =
        "name = @name, job_type = @type, config = @config::json, schedule_expr = @expr, time_zone = @zone, priority = @priority, " +
        "max_retries = @maxRetries, command = @command::json, timeout_seconds = @timeout, gpu_count = @gpuCount, " +
        "misfire_policy = @misfire, overlap_policy = @overlap, updated_at = @now";

    private const string ScheduleChannel = "jobqueue_schedules";

    // The occurrence key (schedule_id, scheduled_for) is unique: an occurrence that already has
    // its job is left alone instead of failing the firing. One statement for all occurrences;
    // scheduled_for comes back so each id finds its occurrence.
    private const string InsertOccurrencesSql =
        "INSERT INTO jobs (job_type, status, priority, config, created_at, max_retries, name, command, timeout_seconds, gpu_count, schedule_id, scheduled_for) " +
        "SELECT t.job_type, 'pending', t.priority, t.config::json, @now, t.max_retries, t.name, t.command::json, t.timeout_seconds, t.gpu_count, @scheduleId, t.scheduled_for " +
        "FROM unnest(@types, @priorities, @configs, @maxRetries, @names, @commands, @timeouts, @gpuCounts, @scheduledFors) WITH ORDINALITY " +
        "AS t(job_type, priority, config, max_retries, name, command, timeout_seconds, gpu_count, scheduled_for, ord) ORDER BY t.ord " +
        "ON CONFLICT (schedule_id, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING RETURNING job_id, scheduled_for";

    public JobSchedule InsertSchedule(ScheduleDefinition definition, ScheduleState state, DateTimeOffset now) => InTransaction((conn, tx) =>
    {
        using var cmd = Sql(conn,
            "INSERT INTO schedules (name, job_type, config, schedule_expr, time_zone, priority, max_retries, command, timeout_seconds, " +
            "gpu_count, misfire_policy, overlap_policy, enabled, next_run, created_at, updated_at) " +
            "VALUES (@name, @type, @config::json, @expr, @zone, @priority, @maxRetries, @command::json, @timeout, @gpuCount, @misfire, @overlap, " +
            "@enabled, @nextRun, @now, @now) ON CONFLICT ((lower(name))) DO NOTHING RETURNING schedule_id", tx);
        BindDefinition(cmd, definition, now);
        BindState(cmd, state);
        if (cmd.ExecuteScalar() is not long id) throw DuplicateName(definition.Name);
        return GetScheduleRow(conn, tx, "schedule_id = @key", id)!;
    });

    public JobSchedule? GetSchedule(long scheduleId) => Run(conn => GetScheduleRow(conn, null, "schedule_id = @key", scheduleId));

    // Names are unique and looked up regardless of case, as PowerShell users expect; an exact match wins.
    public JobSchedule? GetScheduleByName(string name) => Run(conn =>
        GetScheduleRow(conn, null, "lower(name) = lower(@key) ORDER BY (name = @key) DESC, schedule_id LIMIT 1", name));

    public IReadOnlyList<JobSchedule> ListSchedules(ScheduleQuery query) => Run(conn =>
    {
        var where = new List<string>();
        using var cmd = Sql(conn, "");
        if (query.Ids is { Count: > 0 } ids)
        {
            where.Add("schedule_id = ANY(@ids)");
            cmd.Arg("ids", ids.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint);
        }
        if (query.NameLike is { } like)
        {
            // Names are matched case-insensitively, as PowerShell matches wildcards (and SQLite's LIKE).
            where.Add("name ILIKE @name ESCAPE '\\'");
            cmd.Arg("name", PostgresText.Encode(like));
        }
        if (query.Enabled is { } enabled)
        {
            where.Add("enabled = @enabled");
            cmd.Arg("enabled", enabled);
        }
        cmd.CommandText = $"SELECT {ScheduleColumns} FROM schedules" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY schedule_id";
        return (IReadOnlyList<JobSchedule>)ReadSchedules(cmd);
    });

    public JobSchedule UpdateSchedule(long scheduleId, ScheduleDefinition definition, ScheduleState? state, DateTimeOffset now) => InTransaction((conn, tx) =>
    {
        _ = GetScheduleRow(conn, tx, "schedule_id = @key FOR UPDATE", scheduleId) ?? throw ScheduleNotFound(scheduleId);
        if (NameTaken(conn, tx, definition.Name, scheduleId)) throw DuplicateName(definition.Name);
        using var cmd = Sql(conn,
            $"UPDATE schedules SET {DefinitionAssignments}" + (state is null ? "" : ", enabled = @enabled, next_run = @nextRun") + " WHERE schedule_id = @id", tx);
        BindDefinition(cmd, definition, now);
        if (state is not null) BindState(cmd, state);
        cmd.Arg("id", scheduleId);
        try
        {
            cmd.ExecuteNonQuery();
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another session took the name between the check and the update.
            throw DuplicateName(definition.Name);
        }
        return GetScheduleRow(conn, tx, "schedule_id = @key", scheduleId)!;
    });

    public JobSchedule SetScheduleState(long scheduleId, ScheduleState state, DateTimeOffset now) => Run(conn =>
    {
        using var cmd = Sql(conn, $"UPDATE schedules SET enabled = @enabled, next_run = @nextRun, updated_at = @now WHERE schedule_id = @id RETURNING {ScheduleColumns}");
        BindState(cmd, state);
        cmd.Arg("now", Utc(now)).Arg("id", scheduleId);
        return ReadSchedules(cmd).FirstOrDefault() ?? throw ScheduleNotFound(scheduleId);
    });

    public void RemoveSchedule(long scheduleId) => Run(conn =>
    {
        if (Sql(conn, "DELETE FROM schedules WHERE schedule_id = @id").Arg("id", scheduleId).ExecuteNonQuery() == 0) throw ScheduleNotFound(scheduleId);
        return 0;
    });

    public IReadOnlyList<DueSchedule> DueSchedules(DateTimeOffset now) => Run(conn =>
    {
        using var cmd = Sql(conn, $"SELECT {ScheduleColumns} FROM schedules WHERE enabled AND next_run <= @now ORDER BY next_run, schedule_id")
            .Arg("now", Utc(now));
        var due = new List<DueSchedule>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            // The stored instants exactly (to the microsecond, even if set by hand): the firing compares them.
            due.Add(new DueSchedule(
                ReadSchedule(reader),
                new DateTimeOffset(reader.GetFieldValue<DateTime>(9), TimeSpan.Zero),
                reader.IsDBNull(12) ? null : new DateTimeOffset(reader.GetFieldValue<DateTime>(12), TimeSpan.Zero)));
        }
        return (IReadOnlyList<DueSchedule>)due;
    });

    public DateTimeOffset? EarliestNextRun(DateTimeOffset after) => Run(conn =>
        Sql(conn, "SELECT min(next_run) FROM schedules WHERE enabled AND next_run > @after").Arg("after", Utc(after)).ExecuteScalar() is DateTime next
            ? new DateTimeOffset(DateTime.SpecifyKind(next, DateTimeKind.Utc), TimeSpan.Zero)
            : (DateTimeOffset?)null);

    public IReadOnlyDictionary<long, ScheduleActivity> ScheduleActivity(IReadOnlyCollection<long> scheduleIds) => Run(conn =>
    {
        var result = new Dictionary<long, ScheduleActivity>();
        if (scheduleIds.Count == 0) return (IReadOnlyDictionary<long, ScheduleActivity>)result;
        // "scheduled_for IS NOT NULL" lets the occurrence index find a schedule's jobs.
        using var cmd = Sql(conn,
                "SELECT schedule_id, bool_or(status IN ('pending', 'running')), max(completed_at) FROM jobs " +
                "WHERE scheduled_for IS NOT NULL AND schedule_id = ANY(@ids) GROUP BY schedule_id")
            .Arg("ids", scheduleIds.Distinct().ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint);
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            result[reader.GetInt64(0)] = new ScheduleActivity(
                reader.GetBoolean(1),
                reader.IsDBNull(2) ? null : new DateTimeOffset(reader.GetFieldValue<DateTime>(2), TimeSpan.Zero));
        }
        return (IReadOnlyDictionary<long, ScheduleActivity>)result;
    });

    public IReadOnlyList<IReadOnlyList<long?>?> FireSchedules(IReadOnlyList<ScheduleFire> fires, DateTimeOffset now)
    {
        var results = new IReadOnlyList<long?>?[fires.Count];
        if (fires.Count == 0) return results;
        InTransaction((conn, tx) =>
        {
            // One transaction (one WAL flush) for the whole pass. Schedules are taken in id
            // order, so two passes firing overlapping sets lock their rows in the same order and
            // cannot deadlock; the second waits, then finds each row moved on.
            foreach (var f in Enumerable.Range(0, fires.Count).OrderBy(f => fires[f].ScheduleId))
            {
                results[f] = FireOne(conn, tx, fires[f], now);
            }
            return 0;
        });
        if (results.Any(ids => ids?.Any(id => id is not null) == true)) WakeWorkers();
        return results;
    }

    private IReadOnlyList<long?>? FireOne(NpgsqlConnection conn, NpgsqlTransaction tx, ScheduleFire fire, DateTimeOffset now)
    {
        var scheduledFor = fire.Jobs
            .Select(j => Utc(j.ScheduledFor ?? throw new ArgumentException("A scheduled job needs its occurrence.", nameof(fire))))
            .ToArray();
        // Conditional on the values the plan was made from: a pass that lost the race (or planned
        // from a schedule that was changed meanwhile) updates no row and creates nothing. The
        // expected values are compared exactly as they were read, not rounded to milliseconds.
        using (var advance = Sql(conn,
                   "UPDATE schedules SET next_run = @nextRun, last_run = coalesce(@lastRun, last_run) " +
                   "WHERE schedule_id = @id AND enabled AND next_run = @expected AND updated_at IS NOT DISTINCT FROM @updated", tx)
                   .Arg("nextRun", Utc(fire.NextRun), NpgsqlDbType.TimestampTz)
                   .Arg("lastRun", Utc(fire.LastRun), NpgsqlDbType.TimestampTz)
                   .Arg("id", fire.ScheduleId)
                   .Arg("expected", fire.ExpectedNextRun.UtcDateTime, NpgsqlDbType.TimestampTz)
                   .Arg("updated", fire.ExpectedUpdatedAt?.UtcDateTime, NpgsqlDbType.TimestampTz))
        {
            if (advance.ExecuteNonQuery() == 0) return null;
        }
        var ids = new long?[fire.Jobs.Count];
        if (ids.Length > 0)
        {
            var jobs = fire.Jobs;
            using var insert = Sql(conn, InsertOccurrencesSql, tx)
                .Arg("now", Utc(now))
                .Arg("scheduleId", fire.ScheduleId)
                .Arg("types", jobs.Select(j => j.JobType).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("priorities", jobs.Select(j => j.Priority).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)
                .Arg("configs", jobs.Select(j => j.ConfigJson).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("maxRetries", jobs.Select(j => j.MaxRetries).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)
                .Arg("names", PostgresText.Encode(jobs.Select(j => j.Name)), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("commands", jobs.Select(j => ConfigJson.CommandToJson(j.Command)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("timeouts", jobs.Select(j => j.Timeout?.TotalSeconds).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Double)
                .Arg("gpuCounts", jobs.Select(j => j.GpuCount).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)
                .Arg("scheduledFors", scheduledFor, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz);
            var created = new Dictionary<DateTime, long>();
            using (var reader = insert.ExecuteReader())
            {
                while (reader.Read()) created[reader.GetFieldValue<DateTime>(1)] = reader.GetInt64(0);
            }
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = created.TryGetValue(scheduledFor[i], out var id) ? id : null;
            }
        }
        return ids;
    }

    // Triggers NOTIFY the channel when a schedule changes or a scheduled job's run ends (see PostgresMigrations).
    public IDisposable? WatchForChanges(Action changed) => new PostgresChangeListener(_settings.ConnectionString, ScheduleChannel, changed);

    private bool NameTaken(NpgsqlConnection conn, NpgsqlTransaction tx, string name, long? except) =>
        (bool)Sql(conn, "SELECT EXISTS (SELECT FROM schedules WHERE lower(name) = lower(@name) AND schedule_id IS DISTINCT FROM @except)", tx)
            .Arg("name", PostgresText.Encode(name))
            .Arg("except", except, NpgsqlDbType.Bigint)
            .ExecuteScalar()!;

    private JobSchedule? GetScheduleRow(NpgsqlConnection conn, NpgsqlTransaction? tx, string condition, object key)
    {
        using var cmd = Sql(conn, $"SELECT {ScheduleColumns} FROM schedules WHERE {condition}", tx)
            .Arg("key", key is string text ? PostgresText.Encode(text) : key);
        return ReadSchedules(cmd).FirstOrDefault();
    }

    private List<JobSchedule> ReadSchedules(NpgsqlCommand cmd)
    {
        var schedules = new List<JobSchedule>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) schedules.Add(ReadSchedule(reader));
        return schedules;
    }

    private static void BindDefinition(NpgsqlCommand cmd, ScheduleDefinition d, DateTimeOffset now) => cmd
        .Arg("name", PostgresText.Encode(d.Name))
        .Arg("type", d.JobType)
        .Arg("config", d.ConfigJson)
        .Arg("expr", d.Expression)
        .Arg("zone", d.TimeZone)
        .Arg("priority", d.Priority)
        .Arg("maxRetries", d.MaxRetries)
        .Arg("command", ConfigJson.CommandToJson(d.Command), NpgsqlDbType.Text)
        .Arg("timeout", d.Timeout?.TotalSeconds, NpgsqlDbType.Double)
        .Arg("gpuCount", d.GpuCount)
        .Arg("misfire", d.MisfirePolicy.ToString())
        .Arg("overlap", d.OverlapPolicy.ToString())
        .Arg("now", Utc(now));

    private static void BindState(NpgsqlCommand cmd, ScheduleState state) => cmd
        .Arg("enabled", state.Enabled)
        .Arg("nextRun", Utc(state.NextRun), NpgsqlDbType.TimestampTz);

    private JobSchedule ReadSchedule(NpgsqlDataReader r) => new()
    {
        ScheduleId = r.GetInt64(0),
        Name = PostgresText.Decode(r.GetString(1))!,
        JobType = r.GetString(2),
        ConfigJson = r.GetString(3),
        Expression = r.GetString(4),
        TimeZone = r.GetString(5),
        Priority = r.GetInt32(6),
        MaxRetries = r.GetInt32(7),
        Enabled = r.GetBoolean(8),
        NextRun = LocalTime(r, 9),
        LastRun = LocalTime(r, 10),
        CreatedAt = LocalTime(r, 11)!.Value,
        UpdatedAt = LocalTime(r, 12),
        MisfirePolicy = SchedulePolicies.ParseMisfire(r.GetString(13)),
        OverlapPolicy = SchedulePolicies.ParseOverlap(r.GetString(14)),
        Command = r.IsDBNull(15) ? null : ConfigJson.CommandFromJson(r.GetString(15)),
        Timeout = r.IsDBNull(16) ? null : TimeSpan.FromSeconds(r.GetDouble(16)),
        GpuCount = r.GetInt32(17),
        Database = Database,
    };

    internal static JobQueueException ScheduleNotFound(long scheduleId) =>
        new(ErrorKind.ScheduleNotFound, $"No schedule with id {scheduleId} exists in this queue.", scheduleId);

    private static JobQueueException DuplicateName(string name) =>
        new(ErrorKind.DuplicateScheduleName, $"A schedule named '{name}' already exists. Choose another name, or change that schedule with Set-JobSchedule.", name);
}
