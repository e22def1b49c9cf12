using Microsoft.Data.Sqlite;

namespace JobQueue.Engine.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    private const string ScheduleColumns =
        "schedule_id, name, job_type, config, schedule_expr, time_zone, priority, max_retries, enabled, next_run, " +
        "last_run, created_at, updated_at, misfire_policy, overlap_policy, command, timeout_seconds, gpu_count";

    private const string DefinitionAssignments =
        "name = $name, job_type = $type, config = $config, schedule_expr = $expr, time_zone = $zone, priority = $priority, " +
        "max_retries = $maxRetries, command = $command, timeout_seconds = $timeout, gpu_count = $gpuCount, " +
        "misfire_policy = $misfire, overlap_policy = $overlap, updated_at = $now";

    // The occurrence key (schedule_id, scheduled_for) is unique: an occurrence that already has
    // its job is left alone instead of failing the firing.
    private const string InsertOccurrenceSql =
        "INSERT INTO jobs (job_type, status, priority, config, created_at, max_retries, name, command, timeout_seconds, gpu_count, schedule_id, scheduled_for) " +
        "VALUES ($type, 'pending', $priority, $config, $now, $maxRetries, $name, $command, $timeout, $gpuCount, $scheduleId, $scheduledFor) " +
        "ON CONFLICT DO NOTHING RETURNING job_id";

    public JobSchedule InsertSchedule(ScheduleDefinition definition, ScheduleState state, DateTimeOffset now) => Guard(() =>
    {
        using var tx = BeginWrite();
        if (NameTaken(definition.Name, null, tx)) throw DuplicateName(definition.Name);
        var cmd = Command(
            "INSERT INTO schedules (name, job_type, config, schedule_expr, time_zone, priority, max_retries, command, timeout_seconds, " +
            "gpu_count, misfire_policy, overlap_policy, enabled, next_run, created_at, updated_at) " +
            "VALUES ($name, $type, $config, $expr, $zone, $priority, $maxRetries, $command, $timeout, $gpuCount, $misfire, $overlap, " +
            "$enabled, $nextRun, $now, $now) ON CONFLICT (name) DO NOTHING RETURNING schedule_id", tx);
        BindDefinition(cmd, definition, now);
        BindState(cmd, state);
        if (cmd.ExecuteScalar() is not long id)
        {
            throw DuplicateName(definition.Name);
        }
        var created = GetScheduleRow("schedule_id = $id", id, tx)!;
        tx.Commit();
        return created;
    });

    public JobSchedule? GetSchedule(long scheduleId) => Guard(() => GetScheduleRow("schedule_id = $id", scheduleId, null));

    // Names are unique and looked up regardless of case, as PowerShell users expect; an exact match wins.
    public JobSchedule? GetScheduleByName(string name) => Guard(() =>
        GetScheduleRow("name = $id COLLATE NOCASE ORDER BY (name = $id) DESC, schedule_id LIMIT 1", name, null));

    public IReadOnlyList<JobSchedule> ListSchedules(ScheduleQuery query) => Guard(() =>
    {
        var where = new List<string>();
        var values = new List<(string Name, object Value)>();
        if (query.Ids is { Count: > 0 } ids)
        {
            where.Add("schedule_id IN " + InList("id", ids.Count));
            for (var i = 0; i < ids.Count; i++) values.Add(($"$id{i}", ids[i]));
        }
        if (query.NameLike is { } like)
        {
            // Names are matched case-insensitively, as PowerShell matches wildcards.
            where.Add("name LIKE $name ESCAPE '\\'");
            values.Add(("$name", like));
        }
        if (query.Enabled is { } enabled)
        {
            where.Add("enabled = $enabled");
            values.Add(("$enabled", enabled ? 1 : 0));
        }
        var cmd = Command($"SELECT {ScheduleColumns} FROM schedules" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY schedule_id");
        foreach (var (name, value) in values) cmd.Parameters[name].Value = value;
        return (IReadOnlyList<JobSchedule>)ReadSchedules(cmd);
    });

    public JobSchedule UpdateSchedule(long scheduleId, ScheduleDefinition definition, ScheduleState? state, DateTimeOffset now) => Guard(() =>
    {
        using var tx = BeginWrite();
        _ = GetScheduleRow("schedule_id = $id", scheduleId, tx) ?? throw ScheduleNotFound(scheduleId);
        if (NameTaken(definition.Name, scheduleId, tx)) throw DuplicateName(definition.Name);
        var cmd = Command(
            $"UPDATE schedules SET {DefinitionAssignments}" + (state is null ? "" : ", enabled = $enabled, next_run = $nextRun") + " WHERE schedule_id = $id", tx);
        BindDefinition(cmd, definition, now);
        if (state is not null) BindState(cmd, state);
        cmd.Parameters["$id"].Value = scheduleId;
        cmd.ExecuteNonQuery();
        var updated = GetScheduleRow("schedule_id = $id", scheduleId, tx)!;
        tx.Commit();
        return updated;
    });

    public JobSchedule SetScheduleState(long scheduleId, ScheduleState state, DateTimeOffset now) => Guard(() =>
    {
        using var tx = BeginWrite();
        var cmd = Command("UPDATE schedules SET enabled = $enabled, next_run = $nextRun, updated_at = $now WHERE schedule_id = $id", tx);
        BindState(cmd, state);
        cmd.Parameters["$now"].Value = Timestamps.ToText(now);
        cmd.Parameters["$id"].Value = scheduleId;
        if (cmd.ExecuteNonQuery() == 0) throw ScheduleNotFound(scheduleId);
        var updated = GetScheduleRow("schedule_id = $id", scheduleId, tx)!;
        tx.Commit();
        return updated;
    });

    public void RemoveSchedule(long scheduleId) => Guard(() =>
    {
        var cmd = Command("DELETE FROM schedules WHERE schedule_id = $id");
        cmd.Parameters["$id"].Value = scheduleId;
        if (cmd.ExecuteNonQuery() == 0) throw ScheduleNotFound(scheduleId);
        return 0;
    });

    public IReadOnlyList<DueSchedule> DueSchedules(DateTimeOffset now) => Guard(() =>
    {
        var cmd = Command($"SELECT {ScheduleColumns} FROM schedules WHERE enabled = 1 AND next_run <= $now ORDER BY next_run, schedule_id");
        cmd.Parameters["$now"].Value = Timestamps.ToText(now);
        var due = new List<DueSchedule>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            due.Add(new DueSchedule(
                ReadSchedule(reader),
                new DateTimeOffset(Timestamps.ParseUtc(reader.GetString(9)), TimeSpan.Zero),
                reader.IsDBNull(12) ? null : new DateTimeOffset(Timestamps.ParseUtc(reader.GetString(12)), TimeSpan.Zero)));
        }
        return (IReadOnlyList<DueSchedule>)due;
    });

    public DateTimeOffset? EarliestNextRun(DateTimeOffset after) => Guard(() =>
    {
        var cmd = Command("SELECT min(next_run) FROM schedules WHERE enabled = 1 AND next_run > $after");
        cmd.Parameters["$after"].Value = Timestamps.ToText(after);
        return cmd.ExecuteScalar() is string text ? new DateTimeOffset(Timestamps.ParseUtc(text), TimeSpan.Zero) : (DateTimeOffset?)null;
    });

    public IReadOnlyDictionary<long, ScheduleActivity> ScheduleActivity(IReadOnlyCollection<long> scheduleIds) => Guard(() =>
    {
        var result = new Dictionary<long, ScheduleActivity>();
        if (scheduleIds.Count == 0) return (IReadOnlyDictionary<long, ScheduleActivity>)result;
        var ids = scheduleIds.Distinct().ToList();
        // "scheduled_for IS NOT NULL" lets SQLite use the occurrence index to find a schedule's jobs.
        var cmd = Command(
            "SELECT schedule_id, max(status IN ('pending', 'running')), max(completed_at) FROM jobs " +
            "WHERE scheduled_for IS NOT NULL AND schedule_id IN " + InList("id", ids.Count) + " GROUP BY schedule_id");
        for (var i = 0; i < ids.Count; i++) cmd.Parameters[$"$id{i}"].Value = ids[i];
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
        {
            result[reader.GetInt64(0)] = new ScheduleActivity(
                reader.GetInt64(1) != 0,
                reader.IsDBNull(2) ? null : new DateTimeOffset(Timestamps.ParseUtc(reader.GetString(2)), TimeSpan.Zero));
        }
        return (IReadOnlyDictionary<long, ScheduleActivity>)result;
    });

    // Conditional on the values the plan was made from: a pass that lost the race (or planned
    // from a schedule that was changed meanwhile) updates no row and creates nothing. Compared
    // as instants, not text, so a next_run set by hand in SQL ('...T02:00:00Z', without
    // milliseconds) still fires.
    private const string AdvanceScheduleSql =
        "UPDATE schedules SET next_run = $nextRun, last_run = coalesce($lastRun, last_run) " +
        "WHERE schedule_id = $id AND enabled = 1 AND julianday(next_run) = julianday($expected) " +
        "AND julianday(updated_at) IS julianday($updated)";

    public IReadOnlyList<IReadOnlyList<long?>?> FireSchedules(IReadOnlyList<ScheduleFire> fires, DateTimeOffset now) => Guard(() =>
    {
        var results = new IReadOnlyList<long?>?[fires.Count];
        if (fires.Count == 0) return (IReadOnlyList<IReadOnlyList<long?>?>)results;
        var stamp = Timestamps.ToText(now);
        // One transaction for the whole pass: a commit per schedule wrote the same index pages
        // to the WAL a thousand times over. Each firing stays conditional on its own schedule row.
        using var tx = BeginWrite();
        var advance = Command(AdvanceScheduleSql, tx);
        var (aNextRun, aLastRun, aId, aExpected, aUpdated) =
            (advance.Parameters["$nextRun"], advance.Parameters["$lastRun"], advance.Parameters["$id"], advance.Parameters["$expected"], advance.Parameters["$updated"]);
        var insert = Command(InsertOccurrenceSql, tx);
        var p = insert.Parameters;
        var (iType, iPriority, iConfig, iMaxRetries, iName, iCommand, iTimeout, iGpuCount, iScheduleId, iScheduledFor) =
            (p["$type"], p["$priority"], p["$config"], p["$maxRetries"], p["$name"], p["$command"], p["$timeout"], p["$gpuCount"], p["$scheduleId"], p["$scheduledFor"]);
        p["$now"].Value = stamp;
        for (var f = 0; f < fires.Count; f++)
        {
            var fire = fires[f];
            aNextRun.Value = Db(fire.NextRun is { } next ? Timestamps.ToText(next) : null);
            aLastRun.Value = Db(fire.LastRun is { } last ? Timestamps.ToText(last) : null);
            aId.Value = fire.ScheduleId;
            aExpected.Value = Timestamps.ToText(fire.ExpectedNextRun);
            aUpdated.Value = Db(fire.ExpectedUpdatedAt is { } u ? Timestamps.ToText(u) : null);
            if (advance.ExecuteNonQuery() == 0) continue;

            var ids = new long?[fire.Jobs.Count];
            for (var i = 0; i < ids.Length; i++)
            {
                var job = fire.Jobs[i];
                iType.Value = job.JobType;
                iPriority.Value = job.Priority;
                iConfig.Value = job.ConfigJson;
                iMaxRetries.Value = job.MaxRetries;
                iName.Value = Db(job.Name);
                iCommand.Value = Db(ConfigJson.CommandToJson(job.Command));
                iTimeout.Value = Db(job.Timeout?.TotalSeconds);
                iGpuCount.Value = job.GpuCount;
                iScheduleId.Value = fire.ScheduleId;
                iScheduledFor.Value = Timestamps.ToText(job.ScheduledFor ?? throw new ArgumentException("A scheduled job needs its occurrence.", nameof(fires)));
                ids[i] = insert.ExecuteScalar() is long id ? id : null;
            }
            results[f] = ids;
        }
        tx.Commit();
        return (IReadOnlyList<IReadOnlyList<long?>?>)results;
    });

    public IDisposable? WatchForChanges(Action changed)
    {
        // Every commit, by any process, writes the -wal file beside the database.
        try
        {
            var watcher = new FileSystemWatcher(System.IO.Path.GetDirectoryName(Path)!, System.IO.Path.GetFileName(Path) + "*")
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName,
                IncludeSubdirectories = false,
            };
            watcher.Changed += (_, _) => changed();
            watcher.Created += (_, _) => changed();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            return null; // e.g. out of inotify watches: the scheduler falls back to its bounded sleep
        }
    }

    private bool NameTaken(string name, long? except, SqliteTransaction tx)
    {
        var cmd = Command("SELECT count(*) FROM schedules WHERE name = $name COLLATE NOCASE AND schedule_id IS NOT $except", tx);
        cmd.Parameters["$name"].Value = name;
        cmd.Parameters["$except"].Value = Db(except);
        return (long)cmd.ExecuteScalar()! > 0;
    }

    private JobSchedule? GetScheduleRow(string condition, object key, SqliteTransaction? tx)
    {
        var cmd = Command($"SELECT {ScheduleColumns} FROM schedules WHERE {condition}", tx);
        cmd.Parameters["$id"].Value = key;
        return ReadSchedules(cmd).FirstOrDefault();
    }

    private List<JobSchedule> ReadSchedules(SqliteCommand cmd)
    {
        var schedules = new List<JobSchedule>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) schedules.Add(ReadSchedule(reader));
        return schedules;
    }

    private static void BindDefinition(SqliteCommand cmd, ScheduleDefinition d, DateTimeOffset now)
    {
        var p = cmd.Parameters;
        p["$name"].Value = d.Name;
        p["$type"].Value = d.JobType;
        p["$config"].Value = d.ConfigJson;
        p["$expr"].Value = d.Expression;
        p["$zone"].Value = d.TimeZone;
        p["$priority"].Value = d.Priority;
        p["$maxRetries"].Value = d.MaxRetries;
        p["$command"].Value = Db(ConfigJson.CommandToJson(d.Command));
        p["$timeout"].Value = Db(d.Timeout?.TotalSeconds);
        p["$gpuCount"].Value = d.GpuCount;
        p["$misfire"].Value = d.MisfirePolicy.ToString();
        p["$overlap"].Value = d.OverlapPolicy.ToString();
        p["$now"].Value = Timestamps.ToText(now);
    }

    private static void BindState(SqliteCommand cmd, ScheduleState state)
    {
        cmd.Parameters["$enabled"].Value = state.Enabled ? 1 : 0;
        cmd.Parameters["$nextRun"].Value = Db(state.NextRun is { } next ? Timestamps.ToText(next) : null);
    }

    private JobSchedule ReadSchedule(SqliteDataReader r) => new()
    {
        ScheduleId = r.GetInt64(0),
        Name = r.GetString(1),
        JobType = r.GetString(2),
        ConfigJson = r.GetString(3),
        Expression = r.GetString(4),
        TimeZone = r.GetString(5),
        Priority = r.GetInt32(6),
        MaxRetries = r.GetInt32(7),
        Enabled = r.GetInt64(8) != 0,
        NextRun = Timestamps.ToLocal(r.IsDBNull(9) ? null : r.GetString(9)),
        LastRun = Timestamps.ToLocal(r.IsDBNull(10) ? null : r.GetString(10)),
        CreatedAt = Timestamps.ToLocal(r.GetString(11))!.Value,
        UpdatedAt = Timestamps.ToLocal(r.IsDBNull(12) ? null : r.GetString(12)),
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
