using Npgsql;
using NpgsqlTypes;

namespace JobQueue.Engine.Storage.Postgres;

public sealed partial class PostgresJobStore
{
    private const string JobColumns =
        "job_id, name, job_type, status, priority, config::text, command::text, created_at, started_at, completed_at, " +
        "error_message, worker_id, retry_count, max_retries, exit_code, timeout_seconds, gpu_count, gpus, " +
        "schedule_id, not_before, attempt, lease_expires_at, cancel_requested, scheduled_for, host_name, process_id";

    private const string InsertJobSql =
        "INSERT INTO jobs (job_type, status, priority, config, created_at, max_retries, name, command, timeout_seconds, gpu_count, not_before, schedule_id, scheduled_for) " +
        "VALUES (@type, 'pending', @priority, @config::json, @now, @maxRetries, @name, @command::json, @timeout, @gpuCount, @notBefore, @scheduleId, @scheduledFor) RETURNING job_id";

    // One statement for a whole batch: arrays unnested in order; ids come from the identity in that order.
    private const string InsertJobBatchSql =
        "INSERT INTO jobs (job_type, status, priority, config, created_at, max_retries, name, command, timeout_seconds, gpu_count, not_before, schedule_id, scheduled_for) " +
        "SELECT t.job_type, 'pending', t.priority, t.config::json, @now, t.max_retries, t.name, t.command::json, t.timeout_seconds, t.gpu_count, t.not_before, t.schedule_id, t.scheduled_for " +
        "FROM unnest(@types, @priorities, @configs, @maxRetries, @names, @commands, @timeouts, @gpuCounts, @notBefores, @scheduleIds, @scheduledFors) WITH ORDINALITY " +
        "AS t(job_type, priority, config, max_retries, name, command, timeout_seconds, gpu_count, not_before, schedule_id, scheduled_for, ord) " +
        "ORDER BY t.ord RETURNING job_id";

    // The claim: lock the first ready row that no other claimer holds, and take it, in one statement.
    private const string ClaimSqlHead =
        "UPDATE jobs SET status = 'running', started_at = @now, completed_at = NULL, worker_id = @worker, " +
        "attempt = attempt + 1, lease_expires_at = @lease, cancel_requested = false, host_name = @host, " +
        "exit_code = NULL, gpus = NULL, process_id = NULL " +
        "WHERE status = 'pending' AND job_id = (SELECT job_id FROM jobs WHERE status = 'pending' " +
        "AND (not_before IS NULL OR not_before <= @now) AND gpu_count <= @maxGpus";

    private const string ClaimSqlTail = " ORDER BY priority DESC, job_id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " + JobColumns;

    private const string ClaimSql = ClaimSqlHead + ClaimSqlTail;

    private const string ClaimByTypeSql = ClaimSqlHead + " AND job_type = ANY(@types)" + ClaimSqlTail;

    public long Insert(NewJob job, DateTimeOffset now)
    {
        var id = InsertOne(job, now);
        WakeWorkers();
        return id;
    }

    private long InsertOne(NewJob job, DateTimeOffset now) => Run(conn =>
    {
        using var cmd = Sql(conn, InsertJobSql)
            .Arg("type", job.JobType)
            .Arg("priority", job.Priority)
            .Arg("config", job.ConfigJson)
            .Arg("now", Utc(now))
            .Arg("maxRetries", job.MaxRetries)
            .Arg("name", PostgresText.Encode(job.Name), NpgsqlDbType.Text)
            .Arg("command", ConfigJson.CommandToJson(job.Command), NpgsqlDbType.Text)
            .Arg("timeout", job.Timeout?.TotalSeconds, NpgsqlDbType.Double)
            .Arg("gpuCount", job.GpuCount)
            .Arg("notBefore", Utc(job.NotBefore), NpgsqlDbType.TimestampTz)
            .Arg("scheduleId", job.ScheduleId, NpgsqlDbType.Bigint)
            .Arg("scheduledFor", Utc(job.ScheduledFor), NpgsqlDbType.TimestampTz);
        return (long)cmd.ExecuteScalar()!;
    });

    public IReadOnlyList<long> InsertBatch(IReadOnlyList<NewJob> jobs, DateTimeOffset now)
    {
        if (jobs.Count == 0) return Array.Empty<long>();
        var inserted = Run(conn =>
        {
            using var cmd = Sql(conn, InsertJobBatchSql)
                .Arg("now", Utc(now))
                .Arg("types", jobs.Select(j => j.JobType).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("priorities", jobs.Select(j => j.Priority).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)
                .Arg("configs", jobs.Select(j => j.ConfigJson).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("maxRetries", jobs.Select(j => j.MaxRetries).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)
                .Arg("names", PostgresText.Encode(jobs.Select(j => j.Name)), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("commands", jobs.Select(j => ConfigJson.CommandToJson(j.Command)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)
                .Arg("timeouts", jobs.Select(j => j.Timeout?.TotalSeconds).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Double)
                .Arg("gpuCounts", jobs.Select(j => j.GpuCount).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)
                .Arg("notBefores", jobs.Select(j => Utc(j.NotBefore)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
                .Arg("scheduleIds", jobs.Select(j => j.ScheduleId).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint)
                .Arg("scheduledFors", jobs.Select(j => Utc(j.ScheduledFor)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz);
            var ids = new List<long>(jobs.Count);
            using (var reader = cmd.ExecuteReader())
            {
                while (reader.Read()) ids.Add(reader.GetInt64(0));
            }
            // Identity values rise in insertion order, so sorted ids line up with the input.
            ids.Sort();
            RefreshPlannerStatistics(conn, jobs.Count);
            return (IReadOnlyList<long>)ids;
        });
        WakeWorkers();
        return inserted;
    }

    /// <summary>Batches from this size on may leave the planner's picture of the queue out of date.</summary>
    internal const int AnalyzeBatchThreshold = 1_000;

    /// <summary>
    /// After a batch that grows the table by a tenth or more (or a table never analyzed), ANALYZE
    /// it now rather than when autovacuum next looks, up to a minute later. Until then the planner
    /// takes the new pending jobs for a handful, and each claim sorts all of them instead of
    /// reading the first entry of the claim index: on a fresh queue of 5,000 jobs a claim took
    /// 1.2 ms instead of 0.2, and the cost grows with the batch. Without the right to analyze the
    /// table, PostgreSQL warns and skips it, and autovacuum does it later.
    /// </summary>
    private static void RefreshPlannerStatistics(NpgsqlConnection conn, int added)
    {
        if (added < AnalyzeBatchThreshold) return;
        using var known = Sql(conn, "SELECT reltuples FROM pg_class WHERE oid = 'jobs'::regclass");
        var tuples = Convert.ToDouble(known.ExecuteScalar() ?? -1.0);
        if (tuples >= 0 && added < tuples / 10) return;
        using var analyze = Sql(conn, "ANALYZE jobs");
        analyze.ExecuteNonQuery();
    }

    public TrainingJob? Get(long jobId) => Run(conn => GetJob(conn, null, jobId, lockRow: false));

    private TrainingJob? GetJob(NpgsqlConnection conn, NpgsqlTransaction? tx, long jobId, bool lockRow)
    {
        using var cmd = Sql(conn, $"SELECT {JobColumns} FROM jobs WHERE job_id = @id" + (lockRow ? " FOR UPDATE" : ""), tx).Arg("id", jobId);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadJob(reader) : null;
    }

    public IReadOnlyList<TrainingJob> List(JobQuery query) => Run(conn =>
    {
        var where = new List<string>();
        using var cmd = Sql(conn, "");
        if (query.Ids is { Count: > 0 } ids)
        {
            where.Add("job_id = ANY(@ids)");
            cmd.Arg("ids", ids.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint);
        }
        if (query.Statuses is { Count: > 0 } statuses)
        {
            // Literals, not parameters: a prepared (generic) plan can then use the partial index of pending jobs.
            where.Add(statuses.Count == 1
                ? $"status = '{statuses[0].ToDb()}'"
                : "status IN (" + string.Join(", ", statuses.Select(st => $"'{st.ToDb()}'")) + ")");
        }
        if (query.Types is { Count: > 0 } types)
        {
            where.Add("job_type = ANY(@types)");
            cmd.Arg("types", types.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        }
        if (query.NameLike is { } like)
        {
            // Case-insensitive, as SQLite's LIKE and PowerShell wildcards are.
            where.Add("name ILIKE @name ESCAPE '\\'");
            cmd.Arg("name", PostgresText.Encode(like));
        }
        if (query.WorkerId is { } worker)
        {
            where.Add("worker_id = @worker");
            cmd.Arg("worker", PostgresText.Encode(worker));
        }
        if (query.ScheduleId is { } scheduleId)
        {
            where.Add("schedule_id = @schedule");
            cmd.Arg("schedule", scheduleId);
        }
        if (query.First is { } first) cmd.Arg("first", first);
        cmd.CommandText = $"SELECT {JobColumns} FROM jobs"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + (query.QueueOrder ? " ORDER BY priority DESC, job_id" : " ORDER BY job_id DESC")
            + (query.First is not null ? " LIMIT @first" : "");
        return ReadJobs(cmd);
    });

    public TrainingJob? Claim(ClaimRequest request, DateTimeOffset now) => Run(conn =>
    {
        var byType = request.Types is { Count: > 0 };
        using var cmd = Sql(conn, byType ? ClaimByTypeSql : ClaimSql)
            .Arg("now", Utc(now))
            .Arg("worker", PostgresText.Encode(request.WorkerId))
            .Arg("lease", Utc(now + request.Lease))
            .Arg("host", PostgresText.Encode(request.HostName), NpgsqlDbType.Text)
            .Arg("maxGpus", request.MaxGpuCount);
        if (byType) cmd.Arg("types", request.Types!.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadJob(reader) : null;
    });

    // Success needs no decision from the row (retries and cancel requests do not matter), so
    // the ownership check and the change are one statement; any miss takes the full path below,
    // which says why.
    private const string SucceedSql =
        "UPDATE jobs SET status = 'completed', completed_at = @now, error_message = NULL, exit_code = @exit, lease_expires_at = NULL " +
        "WHERE job_id = @id AND status = 'running' AND (@attempt::integer IS NULL OR attempt = @attempt::integer) " +
        "AND (@worker::text IS NULL OR worker_id = @worker::text) RETURNING " + JobColumns;

    private TrainingJob? SucceedOwned(NpgsqlConnection conn, FinishRequest request, DateTimeOffset now)
    {
        using var cmd = Sql(conn, SucceedSql)
            .Arg("id", request.JobId)
            .Arg("now", Utc(now))
            .Arg("exit", request.ExitCode, NpgsqlDbType.Integer)
            .Arg("attempt", request.Attempt, NpgsqlDbType.Integer)
            .Arg("worker", PostgresText.Encode(request.WorkerId), NpgsqlDbType.Text);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadJob(reader) : null;
    }

    public TrainingJob Finish(FinishRequest request, DateTimeOffset now)
    {
        if (request.Outcome == JobOutcome.Succeeded && Run(conn => SucceedOwned(conn, request, now)) is { } done) return done;
        return FinishOther(request, now);
    }

    // A success and the claim of the next job as one statement: one round trip and one commit.
    // The claim runs only when the success matched; the counter trigger sees both changes in
    // one transition table. The halves share the worker parameter: the finishing attempt's
    // worker is the one that claims (JobClient.FinishAndClaim sees to it).
    private static string SucceedAndClaim(string typeFilter) =>
        "WITH done AS (" + SucceedSql + "), next AS (" + ClaimSqlHead + typeFilter + " AND EXISTS (SELECT FROM done)" + ClaimSqlTail + ") " +
        "SELECT * FROM done UNION ALL SELECT * FROM next";

    private static readonly string SucceedAndClaimSql = SucceedAndClaim("");
    private static readonly string SucceedAndClaimByTypeSql = SucceedAndClaim(" AND job_type = ANY(@types)");

    public FinishedAndNext FinishAndClaim(FinishRequest request, ClaimRequest next, DateTimeOffset now)
    {
        if (request.Outcome == JobOutcome.Succeeded)
        {
            var both = Run(conn =>
            {
                var byType = next.Types is { Count: > 0 };
                using var cmd = Sql(conn, byType ? SucceedAndClaimByTypeSql : SucceedAndClaimSql)
                    .Arg("id", request.JobId)
                    .Arg("now", Utc(now))
                    .Arg("exit", request.ExitCode, NpgsqlDbType.Integer)
                    .Arg("attempt", request.Attempt, NpgsqlDbType.Integer)
                    .Arg("worker", PostgresText.Encode(next.WorkerId), NpgsqlDbType.Text)
                    .Arg("lease", Utc(now + next.Lease))
                    .Arg("host", PostgresText.Encode(next.HostName), NpgsqlDbType.Text)
                    .Arg("maxGpus", next.MaxGpuCount);
                if (byType) cmd.Arg("types", next.Types!.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
                TrainingJob? done = null, claimed = null;
                using var reader = cmd.ExecuteReader();
                while (reader.Read())
                {
                    var job = ReadJob(reader);
                    if (job.JobId == request.JobId) done = job;
                    else claimed = job;
                }
                return done is null ? null : new FinishedAndNext(done, claimed);
            });
            if (both is not null) return both;
        }
        return new FinishedAndNext(FinishOther(request, now), null);
    }

    private TrainingJob FinishOther(FinishRequest request, DateTimeOffset now)
    {
        var finished = FinishChecked(request, now);
        if (finished.Status == JobStatus.Pending) WakeWorkers();
        return finished;
    }

    private TrainingJob FinishChecked(FinishRequest request, DateTimeOffset now) => InTransaction((conn, tx) =>
    {
        var job = GetJob(conn, tx, request.JobId, lockRow: true) ?? throw JobNotFound(request.JobId);
        if (job.Status != JobStatus.Running
            || (request.Attempt is { } attempt && attempt != job.Attempt)
            || (request.WorkerId is { } worker && !string.Equals(worker, job.WorkerId, StringComparison.Ordinal)))
        {
            throw new JobQueueException(ErrorKind.JobNotOwned,
                $"Job {job.JobId} is not held by this claim (it is {job.Status.ToDb()}, attempt {job.Attempt}, worker '{job.WorkerId}'); its state was not changed.",
                job.JobId);
        }

        var outcome = request.Outcome;
        if (job.CancelRequested && outcome is JobOutcome.Failed or JobOutcome.Interrupted)
        {
            outcome = JobOutcome.Cancelled;
        }
        string set;
        DateTime? notBefore = null;
        switch (outcome)
        {
            case JobOutcome.Succeeded:
                set = "status = 'completed', completed_at = @now, error_message = NULL, exit_code = @exit, lease_expires_at = NULL";
                break;
            case JobOutcome.Cancelled:
                set = "status = 'cancelled', completed_at = @now, error_message = @error, exit_code = @exit, lease_expires_at = NULL";
                break;
            case JobOutcome.Interrupted:
                set = "status = 'pending', started_at = NULL, worker_id = NULL, error_message = @error, exit_code = @exit, lease_expires_at = NULL, not_before = NULL, gpus = NULL, process_id = NULL";
                break;
            default:
                if (job.RetryCount < job.MaxRetries)
                {
                    var delay = request.RetryDelay ?? (request.RetryPolicy ?? RetryPolicy.Default).DelayFor(job.RetryCount + 1);
                    notBefore = Utc(now + delay);
                    set = "status = 'pending', retry_count = retry_count + 1, not_before = @notBefore, started_at = NULL, worker_id = NULL, error_message = @error, exit_code = @exit, lease_expires_at = NULL, gpus = NULL, process_id = NULL";
                }
                else
                {
                    set = "status = 'failed', completed_at = @now, error_message = @error, exit_code = @exit, lease_expires_at = NULL";
                }
                break;
        }
        using var cmd = Sql(conn, $"UPDATE jobs SET {set} WHERE job_id = @id RETURNING {JobColumns}", tx)
            .Arg("id", job.JobId)
            .Arg("exit", request.ExitCode, NpgsqlDbType.Integer);
        if (set.Contains("@now", StringComparison.Ordinal)) cmd.Arg("now", Utc(now));
        if (set.Contains("@error", StringComparison.Ordinal))
        {
            cmd.Arg("error", PostgresText.Encode(request.ErrorMessage ?? (outcome == JobOutcome.Cancelled ? "Cancelled by request." : null)), NpgsqlDbType.Text);
        }
        if (set.Contains("@notBefore", StringComparison.Ordinal)) cmd.Arg("notBefore", notBefore, NpgsqlDbType.TimestampTz);
        return ReadOne(cmd);
    });

    public TrainingJob Cancel(long jobId, DateTimeOffset now) => InTransaction((conn, tx) =>
    {
        var job = GetJob(conn, tx, jobId, lockRow: true) ?? throw JobNotFound(jobId);
        NpgsqlCommand cmd;
        switch (job.Status)
        {
            case JobStatus.Pending:
                cmd = Sql(conn, $"UPDATE jobs SET status = 'cancelled', completed_at = @now, error_message = 'Cancelled by request.' WHERE job_id = @id RETURNING {JobColumns}", tx)
                    .Arg("now", Utc(now));
                break;
            case JobStatus.Running:
                // The worker that runs it sees the request and stops the process tree.
                cmd = Sql(conn, $"UPDATE jobs SET cancel_requested = true WHERE job_id = @id RETURNING {JobColumns}", tx);
                break;
            default:
                throw new JobQueueException(ErrorKind.InvalidJobState,
                    $"Job {jobId} is already {job.Status.ToDb()}; only pending or running jobs can be cancelled.", jobId, code: "JobAlreadyFinished");
        }
        using (cmd)
        {
            return ReadOne(cmd.Arg("id", jobId));
        }
    });

    public TrainingJob Restart(long jobId, DateTimeOffset now)
    {
        var restarted = RestartOne(jobId, now);
        WakeWorkers();
        return restarted;
    }

    private TrainingJob RestartOne(long jobId, DateTimeOffset now) => InTransaction((conn, tx) =>
    {
        var job = GetJob(conn, tx, jobId, lockRow: true) ?? throw JobNotFound(jobId);
        if (job.Status is not (JobStatus.Failed or JobStatus.Cancelled))
        {
            throw new JobQueueException(ErrorKind.InvalidJobState,
                $"Job {jobId} is {job.Status.ToDb()}; only failed or cancelled jobs can be restarted.", jobId, code: "JobNotRestartable");
        }
        using var cmd = Sql(conn,
            "UPDATE jobs SET status = 'pending', started_at = NULL, completed_at = NULL, worker_id = NULL, error_message = NULL, " +
            "exit_code = NULL, not_before = NULL, cancel_requested = false, lease_expires_at = NULL, gpus = NULL, process_id = NULL " +
            $"WHERE job_id = @id RETURNING {JobColumns}", tx).Arg("id", jobId);
        return ReadOne(cmd);
    });

    public void Remove(long jobId) => InTransaction((conn, tx) =>
    {
        var job = GetJob(conn, tx, jobId, lockRow: true) ?? throw JobNotFound(jobId);
        if (job.Status == JobStatus.Running)
        {
            throw new JobQueueException(ErrorKind.InvalidJobState,
                $"Job {jobId} is running; stop it with Stop-TrainingJob before removing it.", jobId, code: "JobIsRunning");
        }
        Sql(conn, "DELETE FROM job_logs WHERE job_id = @id", tx).Arg("id", jobId).ExecuteNonQuery();
        Sql(conn, "DELETE FROM jobs WHERE job_id = @id", tx).Arg("id", jobId).ExecuteNonQuery();
        return 0;
    });

    public int RemoveFinished(IReadOnlyCollection<JobStatus> statuses, DateTimeOffset cutoff)
    {
        var list = statuses.Where(s => s.IsTerminal()).Distinct().Select(s => s.ToDb()).ToArray();
        if (list.Length == 0) return 0;
        const string filter = "status = ANY(@statuses) AND completed_at < @cutoff";
        return InTransaction((conn, tx) =>
        {
            Sql(conn, $"DELETE FROM job_logs WHERE job_id IN (SELECT job_id FROM jobs WHERE {filter})", tx)
                .Arg("statuses", list, NpgsqlDbType.Array | NpgsqlDbType.Text).Arg("cutoff", Utc(cutoff)).ExecuteNonQuery();
            return Sql(conn, $"DELETE FROM jobs WHERE {filter}", tx)
                .Arg("statuses", list, NpgsqlDbType.Array | NpgsqlDbType.Text).Arg("cutoff", Utc(cutoff)).ExecuteNonQuery();
        });
    }

    public int RenewLeases(string workerId, DateTimeOffset leaseExpiresAt) => Run(conn =>
        Sql(conn, "UPDATE jobs SET lease_expires_at = @lease WHERE worker_id = @worker AND status = 'running'")
            .Arg("lease", Utc(leaseExpiresAt)).Arg("worker", PostgresText.Encode(workerId)).ExecuteNonQuery());

    public JobQueueStatistics Statistics(string? jobType)
    {
        var perType = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (type, status, n) in Run(conn => ReadCounts(conn, jobType)))
        {
            if (!perType.TryGetValue(type, out var counts)) perType[type] = counts = new long[5];
            counts[(int)EnumText.ParseStatus(status)] = n;
        }
        return StatisticsBuilder.Build(perType, Database);
    }

    /// <summary>How often the maintenance path folds job_counts (reading the statistics always does).</summary>
    private static readonly TimeSpan FoldInterval = TimeSpan.FromMinutes(1);

    private long _nextFoldTicks;

    /// <summary>True at most once per <see cref="FoldInterval"/> for this store, and for one caller.</summary>
    private bool FoldDue(DateTimeOffset now)
    {
        var next = Interlocked.Read(ref _nextFoldTicks);
        if (now.UtcTicks < next) return false;
        return Interlocked.CompareExchange(ref _nextFoldTicks, now.UtcTicks + FoldInterval.Ticks, next) == next;
    }

    /// <summary>Serializes the folding of job_counts between sessions: "JobQ_cnt" in ASCII.</summary>
    private const long CountsLockKey = 0x4A6F62515F636E74;

    // Folds the appended changes into one row per (type, status) and returns the totals, in one
    // statement. Run only under CountsLockKey, taken before the statement starts, so its snapshot
    // includes the totals of a fold that committed just before.
    private const string FoldCountsSql =
        "WITH gone AS (DELETE FROM job_counts RETURNING job_type, status, n), " +
        "totals AS (SELECT job_type, status, sum(n)::bigint AS n FROM gone GROUP BY job_type, status), " +
        "kept AS (INSERT INTO job_counts (job_type, status, n) SELECT job_type, status, n FROM totals WHERE n <> 0) " +
        "SELECT job_type, status, n FROM totals WHERE n <> 0 AND (@type::text IS NULL OR job_type = @type::text)";

    private const string SumCountsSql =
        "SELECT job_type, status, sum(n)::bigint FROM job_counts WHERE (@type::text IS NULL OR job_type = @type::text) " +
        "GROUP BY job_type, status HAVING sum(n) <> 0";

    /// <summary>
    /// The job counts per (type, status), from job_counts. The session that gets the lock also
    /// folds the table (so it stays as small as the number of types times statuses); one that
    /// does not just sums, which is as exact: a fold in progress is not visible to it.
    /// </summary>
    private static List<(string Type, string Status, long N)> ReadCounts(NpgsqlConnection conn, string? jobType)
    {
        using var tx = conn.BeginTransaction();
        var fold = (bool)Sql(conn, "SELECT pg_try_advisory_xact_lock(@key)", tx).Arg("key", CountsLockKey).ExecuteScalar()!;
        using var cmd = Sql(conn, fold ? FoldCountsSql : SumCountsSql, tx).Arg("type", jobType, NpgsqlDbType.Text);
        var rows = new List<(string, string, long)>();
        using (var reader = cmd.ExecuteReader())
        {
            while (reader.Read()) rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }
        tx.Commit();
        return rows;
    }

    public IReadOnlyList<TrainingJob> CompletionCandidates(string prefix, int limit) => Run(conn =>
    {
        using var cmd = Sql(conn, $"SELECT {JobColumns} FROM jobs WHERE job_id::text LIKE @prefix ORDER BY job_id DESC LIMIT @limit")
            .Arg("prefix", EscapeLike(prefix) + "%").Arg("limit", limit);
        return ReadJobs(cmd);
    });

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    internal static JobQueueException JobNotFound(long jobId) =>
        new(ErrorKind.JobNotFound, $"No job with id {jobId} exists in this queue.", jobId);

    private TrainingJob ReadOne(NpgsqlCommand cmd)
    {
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return ReadJob(reader);
    }

    private IReadOnlyList<TrainingJob> ReadJobs(NpgsqlCommand cmd)
    {
        var jobs = new List<TrainingJob>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read()) jobs.Add(ReadJob(reader));
        return jobs;
    }

    private TrainingJob ReadJob(NpgsqlDataReader r) => new()
    {
        JobId = r.GetInt64(0),
        Name = r.IsDBNull(1) ? null : PostgresText.Decode(r.GetString(1)),
        JobType = r.GetString(2),
        Status = EnumText.ParseStatus(r.GetString(3)),
        Priority = r.GetInt32(4),
        ConfigJson = r.GetString(5),
        Command = r.IsDBNull(6) ? null : ConfigJson.CommandFromJson(r.GetString(6)),
        CreatedAt = LocalTime(r, 7)!.Value,
        StartedAt = LocalTime(r, 8),
        CompletedAt = LocalTime(r, 9),
        ErrorMessage = r.IsDBNull(10) ? null : PostgresText.Decode(r.GetString(10)),
        WorkerId = r.IsDBNull(11) ? null : PostgresText.Decode(r.GetString(11)),
        RetryCount = r.GetInt32(12),
        MaxRetries = r.GetInt32(13),
        ExitCode = r.IsDBNull(14) ? null : r.GetInt32(14),
        Timeout = r.IsDBNull(15) ? null : TimeSpan.FromSeconds(r.GetDouble(15)),
        GpuCount = r.GetInt32(16),
        Gpus = r.IsDBNull(17) ? null : GpuList.Parse(r.GetString(17)),
        ScheduleId = r.IsDBNull(18) ? null : r.GetInt64(18),
        NotBefore = LocalTime(r, 19),
        Attempt = r.GetInt32(20),
        LeaseExpiresAt = LocalTime(r, 21),
        CancelRequested = r.GetBoolean(22),
        ScheduledFor = LocalTime(r, 23),
        HostName = r.IsDBNull(24) ? null : PostgresText.Decode(r.GetString(24)),
        ProcessId = r.IsDBNull(25) ? null : r.GetInt32(25),
        Database = Database,
    };
}
