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

    // The firings of a pass, set-based: each schedule advances only if it still has the values its
    // plan was made from (compared exactly as they were read), and only the schedules that
    // advanced get their occurrences' jobs (an occurrence whose job exists already is skipped: the
    // occurrence key (schedule_id, scheduled_for) is unique). Rows: each advanced schedule, then
    // each job created with its schedule and occurrence.
    private const string FireSchedulesSql =
        "WITH f AS (SELECT * FROM unnest(@ids, @nextRuns, @lastRuns, @expected, @updated) AS f(id, next_run, last_run, expected, updated)), " +
        "advanced AS (UPDATE schedules s SET next_run = f.next_run, last_run = coalesce(f.last_run, s.last_run) FROM f " +
        "WHERE s.schedule_id = f.id AND s.enabled AND s.next_run = f.expected AND s.updated_at IS NOT DISTINCT FROM f.updated RETURNING s.schedule_id), " +
        "inserted AS (INSERT INTO jobs (job_type, status, priority, config, created_at, max_retries, name, command, timeout_seconds, gpu_count, schedule_id, scheduled_for) " +
        "SELECT t.job_type, 'pending', t.priority, t.config::json, @now, t.max_retries, t.name, t.command::json, t.timeout_seconds, t.gpu_count, t.schedule_id, t.scheduled_for " +
        "FROM unnest(@jobSchedules, @types, @priorities, @configs, @maxRetries, @names, @commands, @timeouts, @gpuCounts, @scheduledFors) WITH ORDINALITY " +
        "AS t(schedule_id, job_type, priority, config, max_retries, name, command, timeout_seconds, gpu_count, scheduled_for, ord) " +
        "WHERE t.schedule_id IN (SELECT schedule_id FROM advanced) ORDER BY t.ord " +
        "ON CONFLICT (schedule_id, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING RETURNING schedule_id, job_id, scheduled_for) " +
        "SELECT schedule_id, NULL::bigint, NULL::timestamptz FROM advanced UNION ALL SELECT schedule_id, job_id, scheduled_for FROM inserted";

    public IReadOnlyList<IReadOnlyList<long?>?> FireSchedules(IReadOnlyList<ScheduleFire> fires, DateTimeOffset now)
    {
        var results = new IReadOnlyList<long?>?[fires.Count];
        if (fires.Count == 0) return results;
        // Schedules in id order, and their jobs in that order (ids rise with schedule and occurrence).
        var ordered = fires.OrderBy(f => f.ScheduleId).ToList();
        var ids = ordered.Select(f => f.ScheduleId).ToArray();
        var jobs = ordered.SelectMany(f => f.Jobs.Select(j => (f.ScheduleId, Job: j))).ToList();
        var scheduledFor = jobs
            .Select(j => Utc(j.Job.ScheduledFor ?? throw new ArgumentException("A scheduled job needs its occurrence.", nameof(fires))))
            .ToArray();
        var advanced = new HashSet<long>();
        var created = new Dictionary<(long, DateTime), long>();
        InTransaction((conn, tx) =>
        {
            // One transaction (one WAL flush), one round trip and one statement for the pass. The
            // rows are locked first, in id order, so two passes firing overlapping sets cannot
            // deadlock; the second waits, then finds each row moved on.
            using var batch = new NpgsqlBatch(conn, tx);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT FROM schedules WHERE schedule_id = ANY(@ids) ORDER BY schedule_id FOR UPDATE")
                .Arg("ids", ids, NpgsqlDbType.Array | NpgsqlDbType.Bigint));
            batch.BatchCommands.Add(new NpgsqlBatchCommand(FireSchedulesSql)
                .Arg("ids", ids, NpgsqlDbType.Array | NpgsqlDbType.Bigint)
                .Arg("nextRuns", ordered.Select(f => Utc(f.NextRun)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
                .Arg("lastRuns", ordered.Select(f => Utc(f.LastRun)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
                .Arg("expected", ordered.Select(f => f.ExpectedNextRun.UtcDateTime).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
                .Arg("updated", ordered.Select(f => f.ExpectedUpdatedAt?.UtcDateTime).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
                .Arg("now", Utc(now), NpgsqlDbType.TimestampTz)
                .Arg("jobSchedules", jobs.Select(j => j.ScheduleId).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint)
                .Arg("types", jobs.Select(j => j.Job.JobType).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("priorities", jobs.Select(j => j.Job.Priority).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)
                .Arg("configs", jobs.Select(j => j.Job.ConfigJson).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("maxRetries", jobs.Select(j => j.Job.MaxRetries).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)
                .Arg("names", PostgresText.Encode(jobs.Select(j => j.Job.Name)), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("commands", jobs.Select(j => ConfigJson.CommandToJson(j.Job.Command)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("timeouts", jobs.Select(j => j.Job.Timeout?.TotalSeconds).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Double)
                .Arg("gpuCounts", jobs.Select(j => j.Job.GpuCount).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)
                .Arg("scheduledFors", scheduledFor, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz));
            using var reader = batch.ExecuteReader();
            reader.NextResult();
            while (reader.Read())
            {
                if (reader.IsDBNull(1)) advanced.Add(reader.GetInt64(0));
                else created[(reader.GetInt64(0), reader.GetFieldValue<DateTime>(2))] = reader.GetInt64(1);
            }
            return 0;
        });
        for (var i = 0; i < fires.Count; i++)
        {
            var fire = fires[i];
            results[i] = advanced.Contains(fire.ScheduleId)
                ? fire.Jobs.Select(j => created.TryGetValue((fire.ScheduleId, Utc(j.ScheduledFor!.Value)), out var id) ? id : (long?)null).ToArray()
                : null;
        }
        if (created.Count > 0) WakeWorkers();
        return results;
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
