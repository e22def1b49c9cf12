using Microsoft.Data.Sqlite;

namespace JobQueue.Engine.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    private const string JobColumns =
        "job_id, name, job_type, status, priority, config, command, created_at, started_at, completed_at, " +
        "error_message, worker_id, retry_count, max_retries, exit_code, timeout_seconds, gpu_count, gpus, " +
        "schedule_id, not_before, attempt, lease_expires_at, cancel_requested, scheduled_for, host_name, process_id";

    /// <summary>
    /// One job in its own transaction, through the batch path's one-row statement: its slots keep
    /// what the last submission bound (the same type or config is not converted again), and the
    /// id is the connection's last rowid, read under the lock, so no RETURNING table is made.
    /// </summary>
    public long Insert(NewJob job, DateTimeOffset now) => Guard(() =>
    {
        var db = _connection.Handle!;
        var one = _insertOne ??= new BatchInsert(db, 1);
        one.Bind(0, job, Timestamps.ToText(now));
        one.Execute();
        return SQLitePCL.raw.sqlite3_last_insert_rowid(db);
    });

    public TrainingJob? Get(long jobId) => Guard(() => GetJob(jobId, null));

    private TrainingJob? GetJob(long jobId, SqliteTransaction? tx)
    {
        var cmd = Command($"SELECT {JobColumns} FROM jobs WHERE job_id = $id", tx);
        cmd.Parameters["$id"].Value = jobId;
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadJob(reader) : null;
    }

    public IReadOnlyList<TrainingJob> List(JobQuery query) => Guard(() =>
    {
        var where = new List<string>();
        var values = new List<(string Name, object Value)>();
        if (query.Ids is { Count: > 0 } ids)
        {
            where.Add("job_id IN " + InList("id", ids.Count));
            for (var i = 0; i < ids.Count; i++) values.Add(($"$id{i}", ids[i]));
        }
        if (query.Statuses is { Count: > 0 } statuses)
        {
            // Literals, not parameters: the planner can then use the partial index of pending jobs.
            where.Add(statuses.Count == 1
                ? $"status = '{statuses[0].ToDb()}'"
                : "status IN (" + string.Join(", ", statuses.Select(st => $"'{st.ToDb()}'")) + ")");
        }
        if (query.Types is { Count: > 0 } types)
        {
            where.Add("job_type IN " + InList("ty", types.Count));
            for (var i = 0; i < types.Count; i++) values.Add(($"$ty{i}", types[i]));
        }
        if (query.NameLike is { } like)
        {
            where.Add("name LIKE $name ESCAPE '\\'");
            values.Add(("$name", like));
        }
        if (query.WorkerId is { } worker)
        {
            where.Add("worker_id = $worker");
            values.Add(("$worker", worker));
        }
        if (query.ScheduleId is { } scheduleId)
        {
            where.Add("schedule_id = $schedule");
            values.Add(("$schedule", scheduleId));
        }
        var sql = $"SELECT {JobColumns} FROM jobs"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + (query.QueueOrder ? " ORDER BY priority DESC, job_id" : " ORDER BY job_id DESC")
            + (query.First is { } first ? " LIMIT $first" : "");
        if (query.First is { } limit) values.Add(("$first", limit));

        var cmd = Command(sql);
        foreach (var (name, value) in values) cmd.Parameters[name].Value = value;
        var jobs = new List<TrainingJob>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) jobs.Add(ReadJob(reader));
        return (IReadOnlyList<TrainingJob>)jobs;
    });

    private const string ClaimSqlHead =
        "UPDATE jobs SET status = 'running', started_at = $now, completed_at = NULL, worker_id = $worker, " +
        "attempt = attempt + 1, lease_expires_at = $lease, cancel_requested = 0, host_name = $host, " +
        "exit_code = NULL, gpus = NULL, process_id = NULL " +
        "WHERE status = 'pending' AND job_id = (SELECT job_id FROM jobs INDEXED BY ix_jobs_claim WHERE status = 'pending' " +
        "AND (not_before IS NULL OR not_before <= $now) AND gpu_count <= $maxGpus";

    private const string ClaimSqlTail = " ORDER BY priority DESC, job_id LIMIT 1) RETURNING " + JobColumns;

    private const string ClaimAnyTypeSql = ClaimSqlHead + ClaimSqlTail;

    private const string CompleteOwnedSql =
        "UPDATE jobs SET status = 'completed', completed_at = $now, error_message = NULL, exit_code = $exit, lease_expires_at = NULL " +
        "WHERE job_id = $id AND status = 'running' AND ($attempt IS NULL OR attempt = $attempt) AND ($worker IS NULL OR worker_id = $worker) " +
        "RETURNING " + JobColumns;

    public TrainingJob? Claim(ClaimRequest request, DateTimeOffset now)
    {
        var row = Guard(() => ClaimRow(request, now));
        // Built outside the connection lock, which other threads sharing this store may be waiting for.
        return row is null ? null : ToJob(row);
    }

    private object[]? ClaimRow(ClaimRequest request, DateTimeOffset now)
    {
        var sql = request.Types is { Count: > 0 } types
            ? ClaimSqlHead + " AND job_type IN " + InList("ty", types.Count) + ClaimSqlTail
            : ClaimAnyTypeSql;
        var cmd = RowCommand(sql);
        cmd.Bind("$now", Timestamps.ToText(now));
        cmd.Bind("$worker", request.WorkerId);
        cmd.Bind("$lease", Timestamps.ToText(now + request.Lease));
        cmd.Bind("$host", request.HostName);
        cmd.Bind("$maxGpus", request.MaxGpuCount);
        if (request.Types is { Count: > 0 } t)
        {
            for (var i = 0; i < t.Count; i++) cmd.Bind($"$ty{i}", t[i]);
        }
        return cmd.ExecuteRow();
    }

    public TrainingJob Finish(FinishRequest request, DateTimeOffset now)
    {
        if (request.Outcome == JobOutcome.Succeeded)
        {
            // The common case in one conditional statement; only a refused claim takes the slow path,
            // which explains why it was refused.
            var row = Guard(() => CompleteOwnedRow(request, now));
            if (row is not null) return ToJob(row);
        }
        return FinishChecked(request, now);
    }

    public FinishedAndNext FinishAndClaim(FinishRequest request, ClaimRequest next, DateTimeOffset now)
    {
        if (request.Outcome == JobOutcome.Succeeded)
        {
            // One write transaction for both: the completion and the claim share its pages and its commit.
            var rows = Guard(() =>
            {
                using var tx = BeginWrite();
                var done = CompleteOwnedRow(request, now);
                if (done is null) return null;
                var claimed = ClaimRow(next, now);
                tx.Commit();
                return new[] { done, claimed };
            });
            if (rows is not null) return new FinishedAndNext(ToJob(rows[0]!), rows[1] is { } c ? ToJob(c) : null);
        }
        return new FinishedAndNext(FinishChecked(request, now), null);
    }

    private object[]? CompleteOwnedRow(FinishRequest request, DateTimeOffset now)
    {
        var cmd = RowCommand(CompleteOwnedSql);
        cmd.Bind("$now", Timestamps.ToText(now));
        cmd.Bind("$exit", request.ExitCode);
        cmd.Bind("$id", request.JobId);
        cmd.Bind("$attempt", request.Attempt);
        cmd.Bind("$worker", request.WorkerId);
        return cmd.ExecuteRow();
    }

    private TrainingJob FinishChecked(FinishRequest request, DateTimeOffset now) => Guard(() =>
    {
        using var tx = BeginWrite();
        var job = GetJob(request.JobId, tx) ?? throw JobNotFound(request.JobId);
        if (job.Status != JobStatus.Running
            || (request.Attempt is { } attempt && attempt != job.Attempt)
            || (request.WorkerId is { } worker && !string.Equals(worker, job.WorkerId, StringComparison.Ordinal)))
        {
            throw new JobQueueException(ErrorKind.JobNotOwned,
                $"Job {job.JobId} is not held by this claim (it is {job.Status.ToDb()}, attempt {job.Attempt}, worker '{job.WorkerId}'); its state was not changed.",
                job.JobId);
        }

        var stamp = Timestamps.ToText(now);
        var outcome = request.Outcome;
        if (job.CancelRequested && outcome is JobOutcome.Failed or JobOutcome.Interrupted)
        {
            outcome = JobOutcome.Cancelled;
        }
        string sql;
        string? notBefore = null;
        switch (outcome)
        {
            case JobOutcome.Succeeded:
                sql = "UPDATE jobs SET status = 'completed', completed_at = $now, error_message = NULL, exit_code = $exit, lease_expires_at = NULL WHERE job_id = $id";
                break;
            case JobOutcome.Cancelled:
                sql = "UPDATE jobs SET status = 'cancelled', completed_at = $now, error_message = $error, exit_code = $exit, lease_expires_at = NULL WHERE job_id = $id";
                break;
            case JobOutcome.Interrupted:
                sql = "UPDATE jobs SET status = 'pending', started_at = NULL, worker_id = NULL, error_message = $error, exit_code = $exit, lease_expires_at = NULL, not_before = NULL, gpus = NULL, process_id = NULL WHERE job_id = $id";
                break;
            default:
                if (job.RetryCount < job.MaxRetries)
                {
                    var delay = request.RetryDelay ?? (request.RetryPolicy ?? RetryPolicy.Default).DelayFor(job.RetryCount + 1);
                    notBefore = Timestamps.ToText(now + delay);
                    sql = "UPDATE jobs SET status = 'pending', retry_count = retry_count + 1, not_before = $notBefore, started_at = NULL, worker_id = NULL, error_message = $error, exit_code = $exit, lease_expires_at = NULL, gpus = NULL, process_id = NULL WHERE job_id = $id";
                }
                else
                {
                    sql = "UPDATE jobs SET status = 'failed', completed_at = $now, error_message = $error, exit_code = $exit, lease_expires_at = NULL WHERE job_id = $id";
                }
                break;
        }
        var cmd = Command(sql, tx);
        cmd.Parameters["$id"].Value = job.JobId;
        cmd.Parameters["$exit"].Value = Db(request.ExitCode);
        if (cmd.Parameters.Contains("$now")) cmd.Parameters["$now"].Value = stamp;
        if (cmd.Parameters.Contains("$error")) cmd.Parameters["$error"].Value = Db(request.ErrorMessage ?? (outcome == JobOutcome.Cancelled ? "Cancelled by request." : null));
        if (cmd.Parameters.Contains("$notBefore")) cmd.Parameters["$notBefore"].Value = Db(notBefore);
        cmd.ExecuteNonQuery();
        var updated = GetJob(job.JobId, tx)!;
        tx.Commit();
        return updated;
    });

    public TrainingJob Cancel(long jobId, DateTimeOffset now) => Guard(() =>
    {
        using var tx = BeginWrite();
        var job = GetJob(jobId, tx) ?? throw JobNotFound(jobId);
        SqliteCommand cmd;
        switch (job.Status)
        {
            case JobStatus.Pending:
                cmd = Command("UPDATE jobs SET status = 'cancelled', completed_at = $now, error_message = 'Cancelled by request.' WHERE job_id = $id", tx);
                cmd.Parameters["$now"].Value = Timestamps.ToText(now);
                break;
            case JobStatus.Running:
                cmd = Command("UPDATE jobs SET cancel_requested = 1 WHERE job_id = $id", tx);
                break;
            default:
                throw new JobQueueException(ErrorKind.InvalidJobState,
                    $"Job {jobId} is already {job.Status.ToDb()}; only pending or running jobs can be cancelled.", jobId, code: "JobAlreadyFinished");
        }
        cmd.Parameters["$id"].Value = jobId;
        cmd.ExecuteNonQuery();
        var updated = GetJob(jobId, tx)!;
        tx.Commit();
        return updated;
    });

    public TrainingJob Restart(long jobId, DateTimeOffset now) => Guard(() =>
    {
        using var tx = BeginWrite();
        var job = GetJob(jobId, tx) ?? throw JobNotFound(jobId);
        if (job.Status is not (JobStatus.Failed or JobStatus.Cancelled))
        {
            throw new JobQueueException(ErrorKind.InvalidJobState,
                $"Job {jobId} is {job.Status.ToDb()}; only failed or cancelled jobs can be restarted.", jobId, code: "JobNotRestartable");
        }
        var cmd = Command(
            "UPDATE jobs SET status = 'pending', started_at = NULL, completed_at = NULL, worker_id = NULL, error_message = NULL, " +
            "exit_code = NULL, not_before = NULL, cancel_requested = 0, lease_expires_at = NULL, gpus = NULL, process_id = NULL WHERE job_id = $id", tx);
        cmd.Parameters["$id"].Value = jobId;
        cmd.ExecuteNonQuery();
        var updated = GetJob(jobId, tx)!;
        tx.Commit();
        return updated;
    });

    public void Remove(long jobId) => Guard(() =>
    {
        using var tx = BeginWrite();
        var job = GetJob(jobId, tx) ?? throw JobNotFound(jobId);
        if (job.Status == JobStatus.Running)
        {
            throw new JobQueueException(ErrorKind.InvalidJobState,
                $"Job {jobId} is running; stop it with Stop-TrainingJob before removing it.", jobId, code: "JobIsRunning");
        }
        var logs = Command("DELETE FROM job_logs WHERE job_id = $id", tx);
        logs.Parameters["$id"].Value = jobId;
        logs.ExecuteNonQuery();
        var cmd = Command("DELETE FROM jobs WHERE job_id = $id", tx);
        cmd.Parameters["$id"].Value = jobId;
        cmd.ExecuteNonQuery();
        tx.Commit();
        return 0;
    });

    public int RemoveFinished(IReadOnlyCollection<JobStatus> statuses, DateTimeOffset cutoff) => Guard(() =>
    {
        var list = statuses.Where(s => s.IsTerminal()).Distinct().ToList();
        if (list.Count == 0) return 0;
        var filter = "status IN " + InList("st", list.Count) + " AND completed_at < $cutoff";
        using var tx = BeginWrite();
        var logs = Command($"DELETE FROM job_logs WHERE job_id IN (SELECT job_id FROM jobs WHERE {filter})", tx);
        var jobs = Command($"DELETE FROM jobs WHERE {filter}", tx);
        foreach (var cmd in new[] { logs, jobs })
        {
            for (var i = 0; i < list.Count; i++) cmd.Parameters[$"$st{i}"].Value = list[i].ToDb();
            cmd.Parameters["$cutoff"].Value = Timestamps.ToText(cutoff);
        }
        logs.ExecuteNonQuery();
        var removed = jobs.ExecuteNonQuery();
        tx.Commit();
        return removed;
    });

    public int RenewLeases(string workerId, DateTimeOffset leaseExpiresAt) => Guard(() =>
    {
        var cmd = Command("UPDATE jobs SET lease_expires_at = $lease WHERE worker_id = $worker AND status = 'running'");
        cmd.Parameters["$lease"].Value = Timestamps.ToText(leaseExpiresAt);
        cmd.Parameters["$worker"].Value = workerId;
        return cmd.ExecuteNonQuery();
    });

    /// <summary>
    /// The counters (schema step 5: pending and running share the row 'active') and the running
    /// jobs counted through their index, read in one statement and so from one snapshot. Grouped
    /// in the index's own order (worker, then type), the count streams without a sort; the rows
    /// of one type are summed below.
    /// </summary>
    private static string StatisticsSql(string filter) =>
        $"SELECT job_type, status, n FROM job_counts WHERE n <> 0{filter} " +
        $"UNION ALL SELECT job_type, 'running', count(*) FROM jobs INDEXED BY ix_jobs_running_worker WHERE status = 'running'{filter} GROUP BY worker_id, job_type";

    private static readonly string StatisticsAllSql = StatisticsSql("");
    private static readonly string StatisticsOfTypeSql = StatisticsSql(" AND job_type = $type");

    public JobQueueStatistics Statistics(string? jobType) => Guard(() =>
    {
        var cmd = Command(jobType is null ? StatisticsAllSql : StatisticsOfTypeSql);
        if (jobType is not null) cmd.Parameters["$type"].Value = jobType;
        var perType = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read())
            {
                var type = reader.GetString(0);
                if (!perType.TryGetValue(type, out var counts)) perType[type] = counts = new long[5];
                var status = reader.GetString(1);
                var n = reader.GetInt64(2);
                if (status == "active")
                {
                    counts[(int)JobStatus.Pending] += n;
                }
                else
                {
                    var index = (int)EnumText.ParseStatus(status);
                    counts[index] += n;
                    if (index == (int)JobStatus.Running) counts[(int)JobStatus.Pending] -= n;
                }
            }
        }
        return StatisticsBuilder.Build(perType, Path);
    });

    public IReadOnlyList<TrainingJob> CompletionCandidates(string prefix, int limit) => Guard(() =>
    {
        var cmd = Command($"SELECT {JobColumns} FROM jobs WHERE CAST(job_id AS TEXT) LIKE $prefix ORDER BY job_id DESC LIMIT $limit");
        cmd.Parameters["$prefix"].Value = prefix + "%";
        cmd.Parameters["$limit"].Value = limit;
        var jobs = new List<TrainingJob>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) jobs.Add(ReadJob(reader));
        return (IReadOnlyList<TrainingJob>)jobs;
    });

    internal static JobQueueException JobNotFound(long jobId) =>
        new(ErrorKind.JobNotFound, $"No job with id {jobId} exists in this queue.", jobId);

    private TrainingJob ToJob(object[] v) => new()
    {
        JobId = (long)v[0],
        Name = v[1] as string,
        JobType = (string)v[2],
        Status = EnumText.ParseStatus((string)v[3]),
        Priority = (int)(long)v[4],
        ConfigJson = (string)v[5],
        Command = v[6] is string command ? ConfigJson.CommandFromJson(command) : null,
        CreatedAt = Timestamps.ToLocal((string)v[7])!.Value,
        StartedAt = Timestamps.ToLocal(v[8] as string),
        CompletedAt = Timestamps.ToLocal(v[9] as string),
        ErrorMessage = v[10] as string,
        WorkerId = v[11] as string,
        RetryCount = (int)(long)v[12],
        MaxRetries = (int)(long)v[13],
        ExitCode = v[14] is long exit ? (int)exit : null,
        Timeout = v[15] is DBNull ? null : TimeSpan.FromSeconds(Convert.ToDouble(v[15], System.Globalization.CultureInfo.InvariantCulture)),
        GpuCount = (int)(long)v[16],
        Gpus = v[17] is string gpus ? GpuList.Parse(gpus) : null,
        ScheduleId = v[18] is long scheduleId ? scheduleId : null,
        NotBefore = Timestamps.ToLocal(v[19] as string),
        Attempt = (int)(long)v[20],
        LeaseExpiresAt = Timestamps.ToLocal(v[21] as string),
        CancelRequested = (long)v[22] != 0,
        ScheduledFor = Timestamps.ToLocal(v[23] as string),
        HostName = v[24] as string,
        ProcessId = v[25] is long pid ? (int)pid : null,
        Database = Database,
    };

    private TrainingJob ReadJob(SqliteDataReader r) => new()
    {
        JobId = r.GetInt64(0),
        Name = r.IsDBNull(1) ? null : r.GetString(1),
        JobType = r.GetString(2),
        Status = EnumText.ParseStatus(r.GetString(3)),
        Priority = r.GetInt32(4),
        ConfigJson = r.GetString(5),
        Command = r.IsDBNull(6) ? null : ConfigJson.CommandFromJson(r.GetString(6)),
        CreatedAt = Timestamps.ToLocal(r.GetString(7))!.Value,
        StartedAt = Timestamps.ToLocal(r.IsDBNull(8) ? null : r.GetString(8)),
        CompletedAt = Timestamps.ToLocal(r.IsDBNull(9) ? null : r.GetString(9)),
        ErrorMessage = r.IsDBNull(10) ? null : r.GetString(10),
        WorkerId = r.IsDBNull(11) ? null : r.GetString(11),
        RetryCount = r.GetInt32(12),
        MaxRetries = r.GetInt32(13),
        ExitCode = r.IsDBNull(14) ? null : r.GetInt32(14),
        Timeout = r.IsDBNull(15) ? null : TimeSpan.FromSeconds(r.GetDouble(15)),
        GpuCount = r.GetInt32(16),
        Gpus = r.IsDBNull(17) ? null : GpuList.Parse(r.GetString(17)),
        ScheduleId = r.IsDBNull(18) ? null : r.GetInt64(18),
        NotBefore = Timestamps.ToLocal(r.IsDBNull(19) ? null : r.GetString(19)),
        Attempt = r.GetInt32(20),
        LeaseExpiresAt = Timestamps.ToLocal(r.IsDBNull(21) ? null : r.GetString(21)),
        CancelRequested = r.GetInt64(22) != 0,
        ScheduledFor = Timestamps.ToLocal(r.IsDBNull(23) ? null : r.GetString(23)),
        HostName = r.IsDBNull(24) ? null : r.GetString(24),
        ProcessId = r.IsDBNull(25) ? null : r.GetInt32(25),
        Database = Database,
    };
}
