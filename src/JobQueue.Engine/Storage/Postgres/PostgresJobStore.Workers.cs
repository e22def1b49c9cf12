using Npgsql;
using NpgsqlTypes;

namespace JobQueue.Engine.Storage.Postgres;

/// <summary>
/// Workers on PostgreSQL, with the behaviour and errors of the SQLite driver. Workers of many
/// hosts share the table: registration is serialized per worker id by an advisory lock, every
/// change to a job is conditional on the attempt that holds it, and a rescuer skips a job whose
/// row another session holds locked (a second rescuer, or the owner finishing it) instead of
/// waiting for it.
/// </summary>
public sealed partial class PostgresJobStore
{
    /// <summary>Stopped or lost workers are forgotten after this long (when no job of theirs is running).</summary>
    private static readonly TimeSpan ForgetWorkersAfter = TimeSpan.FromDays(7);

    /// <summary>The first key of the per-worker-id advisory lock: "JobW" in ASCII.</summary>
    private const int WorkerLockKey = 0x4A6F6257;

    private const string JobsChannel = "jobqueue_jobs";

    private const string WorkerColumns =
        "w.worker_id, w.host_name, w.process_id, w.started_at, w.last_heartbeat, w.state, w.gpus, w.jobs_completed, " +
        "w.jobs_failed, w.stop_requested, w.lease_seconds, " +
        "ARRAY(SELECT j.job_id FROM jobs j WHERE j.status = 'running' AND j.worker_id = w.worker_id ORDER BY j.job_id)";

    private const string LeaseColumns =
        "job_id, attempt, worker_id, host_name, process_id, process_started_at, cancel_requested, retry_count, max_retries, lease_expires_at";

    public void RegisterWorker(WorkerRegistration registration, DateTimeOffset now) => InTransaction((conn, tx) =>
    {
        // Two processes starting with the same id at once: the second waits here, then sees the first.
        Sql(conn, "SELECT pg_advisory_xact_lock(@key, hashtext(@id))", tx)
            .Arg("key", WorkerLockKey).Arg("id", registration.WorkerId).ExecuteNonQuery();
        var existing = ReadWorkers(conn, tx, "WHERE w.worker_id = @id", now, ("id", registration.WorkerId)).FirstOrDefault();
        var sameHost = existing is not null && string.Equals(existing.HostName, registration.HostName, StringComparison.OrdinalIgnoreCase);
        var replaceable = sameHost && (existing!.ProcessId == registration.ProcessId || existing.ProcessId == registration.ReplacesDeadProcessId);
        if (existing is { State: WorkerState.Running or WorkerState.Stopping } && !replaceable)
        {
            throw new JobQueueException(ErrorKind.InvalidArgument,
                $"The worker id '{registration.WorkerId}' is in use by process {existing.ProcessId} on '{existing.HostName}' (last heartbeat {existing.LastHeartbeat:yyyy-MM-dd HH:mm:ss}). Choose another -WorkerId, or stop that worker first.",
                registration.WorkerId, code: "WorkerIdInUse");
        }

        Sql(conn,
                "DELETE FROM workers WHERE last_heartbeat < @cutoff AND worker_id <> @id " +
                "AND NOT EXISTS (SELECT FROM jobs j WHERE j.status = 'running' AND j.worker_id = workers.worker_id)", tx)
            .Arg("cutoff", Utc(now - ForgetWorkersAfter)).Arg("id", registration.WorkerId).ExecuteNonQuery();

        Sql(conn,
                "INSERT INTO workers (worker_id, host_name, process_id, started_at, last_heartbeat, state, gpus, jobs_completed, jobs_failed, stop_requested, lease_seconds) " +
                "VALUES (@id, @host, @pid, @now, @now, 'running', @gpus, 0, 0, false, @lease) " +
                "ON CONFLICT (worker_id) DO UPDATE SET host_name = excluded.host_name, process_id = excluded.process_id, " +
                "started_at = excluded.started_at, last_heartbeat = excluded.last_heartbeat, state = 'running', gpus = excluded.gpus, " +
                "jobs_completed = 0, jobs_failed = 0, stop_requested = false, lease_seconds = excluded.lease_seconds", tx)
            .Arg("id", registration.WorkerId)
            .Arg("host", registration.HostName)
            .Arg("pid", registration.ProcessId)
            .Arg("now", Utc(now))
            .Arg("gpus", GpuList.Format(registration.Gpus), NpgsqlDbType.Text)
            .Arg("lease", registration.LeaseDuration.TotalSeconds)
            .ExecuteNonQuery();
        return 0;
    });

    public WorkerHeartbeatResult Heartbeat(WorkerHeartbeat heartbeat, DateTimeOffset now) => InTransaction((conn, tx) =>
    {
        var stop = Sql(conn,
                "UPDATE workers SET last_heartbeat = @now, state = @state, jobs_completed = @done, jobs_failed = @failed " +
                "WHERE worker_id = @id RETURNING stop_requested", tx)
            .Arg("now", Utc(now))
            .Arg("state", heartbeat.State.ToDb())
            .Arg("done", heartbeat.JobsCompleted)
            .Arg("failed", heartbeat.JobsFailed)
            .Arg("id", heartbeat.WorkerId)
            .ExecuteScalar();

        var lost = new List<long>();
        if (heartbeat.Attempts.Count > 0)
        {
            // One statement for every attempt, rows locked in id order (as every multi-row change does).
            var attempts = heartbeat.Attempts.OrderBy(a => a.JobId).ToList();
            using var renew = Sql(conn,
                    "UPDATE jobs SET lease_expires_at = @lease FROM unnest(@jobs, @attempts) AS a(job_id, attempt) " +
                    "WHERE jobs.job_id = a.job_id AND jobs.attempt = a.attempt AND jobs.worker_id = @worker AND jobs.status = 'running' " +
                    "RETURNING jobs.job_id", tx)
                .Arg("lease", Utc(heartbeat.LeaseExpiresAt))
                .Arg("jobs", attempts.Select(a => a.JobId).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint)
                .Arg("attempts", attempts.Select(a => a.Attempt).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Integer)
                .Arg("worker", heartbeat.WorkerId);
            var renewed = new HashSet<long>();
            using (var reader = renew.ExecuteReader())
            {
                while (reader.Read()) renewed.Add(reader.GetInt64(0));
            }
            lost.AddRange(heartbeat.Attempts.Select(a => a.JobId).Where(id => !renewed.Contains(id)));
        }
        return new WorkerHeartbeatResult(stop is not null, stop is true, lost);
    });

    public WorkerPoll Poll(string workerId, IReadOnlyList<long> jobIds) => Run(conn =>
    {
        var stop = Sql(conn, "SELECT stop_requested FROM workers WHERE worker_id = @id").Arg("id", workerId).ExecuteScalar() is true;
        var jobs = new List<JobRunState>();
        if (jobIds.Count > 0)
        {
            using var cmd = Sql(conn, "SELECT job_id, status, attempt, worker_id, cancel_requested FROM jobs WHERE job_id = ANY(@ids)")
                .Arg("ids", jobIds.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint);
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                jobs.Add(new JobRunState(reader.GetInt64(0), EnumText.ParseStatus(reader.GetString(1)), reader.GetInt32(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetBoolean(4)));
            }
        }
        return new WorkerPoll(stop, jobs);
    });

    public IReadOnlyList<JobWorker> ListWorkers(DateTimeOffset now) => Run(conn => (IReadOnlyList<JobWorker>)ReadWorkers(conn, null, "", now));

    public JobWorker? RequestWorkerStop(string workerId, DateTimeOffset now)
    {
        var worker = Run(conn =>
        {
            if (Sql(conn, "UPDATE workers SET stop_requested = true WHERE worker_id = @id").Arg("id", workerId).ExecuteNonQuery() == 0) return null;
            return ReadWorkers(conn, null, "WHERE w.worker_id = @id", now, ("id", workerId)).FirstOrDefault();
        });
        // An idle worker sees the request at once.
        if (worker is not null) WakeWorkers();
        return worker;
    }

    public bool RecordJobProcess(JobProcessRecord record) => Run(conn =>
        Sql(conn,
                "UPDATE jobs SET gpus = @gpus, process_id = @pid, process_started_at = @started " +
                "WHERE job_id = @id AND attempt = @attempt AND worker_id = @worker AND status = 'running'")
            .Arg("gpus", GpuList.Format(record.Gpus), NpgsqlDbType.Text)
            .Arg("pid", record.ProcessId, NpgsqlDbType.Integer)
            .Arg("started", Utc(record.ProcessStartedAt), NpgsqlDbType.TimestampTz)
            .Arg("id", record.JobId)
            .Arg("attempt", record.Attempt)
            .Arg("worker", record.WorkerId)
            .ExecuteNonQuery() == 1);

    public PendingOutlook PeekPending(IReadOnlyList<string>? types, int maxGpuCount, DateTimeOffset now) => Run(conn =>
    {
        var byType = types is { Count: > 0 };
        var filter = "status = 'pending' AND gpu_count <= @maxGpus" + (byType ? " AND job_type = ANY(@types)" : "");
        using var cmd = Sql(conn,
                $"SELECT EXISTS (SELECT FROM jobs WHERE {filter} AND (not_before IS NULL OR not_before <= @now)), " +
                $"(SELECT min(not_before) FROM jobs WHERE {filter} AND not_before > @now AND retry_count > 0), " +
                $"(SELECT min(not_before) FROM jobs WHERE {filter} AND not_before > @now AND retry_count = 0)")
            .Arg("maxGpus", maxGpuCount)
            .Arg("now", Utc(now));
        if (byType) cmd.Arg("types", types!.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return new PendingOutlook(reader.GetBoolean(0), ReadUtc(reader, 1), ReadUtc(reader, 2));
    });

    public IReadOnlyList<ExpiredLease> FindExpiredLeases(DateTimeOffset now, int limit, string? releaseWorkerId = null) => Run(conn =>
    {
        // The rescue pass is the queue's maintenance, run by every worker and scheduler: it also
        // folds the job counters, so they stay small even when nobody reads the statistics.
        if (FoldDue(now)) ReadCounts(conn, null);
        var leases = new List<ExpiredLease>();
        // Rows another session holds locked right now (a rescuer holding them, an owner finishing
        // them) are skipped: they are being dealt with, and a rescuer on another host never waits.
        using (var expired = Sql(conn,
                   $"SELECT {LeaseColumns} FROM jobs WHERE status = 'running' AND lease_expires_at < @now " +
                   "ORDER BY lease_expires_at LIMIT @limit FOR UPDATE SKIP LOCKED")
                   .Arg("now", Utc(now)).Arg("limit", limit))
        {
            ReadLeases(expired, leases);
        }
        if (releaseWorkerId is not null)
        {
            using var owned = Sql(conn, $"SELECT {LeaseColumns} FROM jobs WHERE status = 'running' AND worker_id = @worker ORDER BY job_id LIMIT @limit")
                .Arg("worker", releaseWorkerId).Arg("limit", limit);
            ReadLeases(owned, leases);
        }
        return (IReadOnlyList<ExpiredLease>)leases.DistinctBy(l => l.JobId).ToList();
    });

    public bool HoldExpiredLease(ExpiredLease lease, string rescuerId, DateTimeOffset holdUntil, DateTimeOffset now, string? releaseWorkerId = null) => Run(conn =>
        // Conditional on the attempt, and skipping a row that another rescuer is holding right now:
        // of several rescuers on several hosts exactly one gets the job, and none waits.
        Sql(conn,
                "UPDATE jobs SET worker_id = @rescuer, lease_expires_at = @hold " +
                "WHERE job_id = (SELECT job_id FROM jobs WHERE job_id = @id AND attempt = @attempt AND status = 'running' " +
                "AND (lease_expires_at < @now OR worker_id = @release) FOR UPDATE SKIP LOCKED) " +
                "AND attempt = @attempt AND status = 'running'")
            .Arg("rescuer", rescuerId)
            .Arg("hold", Utc(holdUntil))
            .Arg("id", lease.JobId)
            .Arg("attempt", lease.Attempt)
            .Arg("now", Utc(now))
            .Arg("release", releaseWorkerId, NpgsqlDbType.Text)
            .ExecuteNonQuery() == 1);

    public TrainingJob? CompleteRescue(RescueCompletion completion, DateTimeOffset now)
    {
        var job = CompleteRescueOnce(completion, now);
        if (job?.Status == JobStatus.Pending) WakeWorkers();
        return job;
    }

    private TrainingJob? CompleteRescueOnce(RescueCompletion completion, DateTimeOffset now) => Run(conn =>
    {
        // SET expressions all see the row as it was, so each CASE takes the same branch.
        const string retrying = "(NOT cancel_requested AND retry_count < max_retries)";
        using var cmd = Sql(conn,
                "UPDATE jobs SET " +
                "status = CASE WHEN cancel_requested THEN 'cancelled' WHEN retry_count < max_retries THEN 'pending' ELSE 'failed' END, " +
                "error_message = CASE WHEN cancel_requested THEN @cancelled WHEN retry_count < max_retries THEN @retry ELSE @failed END, " +
                $"retry_count = CASE WHEN {retrying} THEN retry_count + 1 ELSE retry_count END, " +
                $"completed_at = CASE WHEN {retrying} THEN NULL ELSE @now END, " +
                $"started_at = CASE WHEN {retrying} THEN NULL ELSE started_at END, " +
                $"worker_id = CASE WHEN {retrying} THEN NULL ELSE @previous END, " +
                $"not_before = CASE WHEN {retrying} THEN NULL ELSE not_before END, " +
                $"gpus = CASE WHEN {retrying} THEN NULL ELSE gpus END, " +
                $"process_id = CASE WHEN {retrying} THEN NULL ELSE process_id END, " +
                $"process_started_at = CASE WHEN {retrying} THEN NULL ELSE process_started_at END, " +
                "lease_expires_at = NULL, exit_code = NULL " +
                $"WHERE job_id = @id AND attempt = @attempt AND worker_id = @rescuer AND status = 'running' RETURNING {JobColumns}")
            .Arg("cancelled", completion.CancelledMessage)
            .Arg("retry", completion.RetryMessage)
            .Arg("failed", completion.FailedMessage)
            .Arg("now", Utc(now))
            .Arg("previous", completion.PreviousWorkerId, NpgsqlDbType.Text)
            .Arg("id", completion.JobId)
            .Arg("attempt", completion.Attempt)
            .Arg("rescuer", completion.RescuerId);
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? ReadJob(reader) : null;
    });

    // Idle workers on every host LISTEN on jobqueue_jobs; WakeWorkers notifies it.
    public IDisposable? WatchChanges(Action changed) => new PostgresChangeListener(_settings.ConnectionString, JobsChannel, changed);

    /// <summary>
    /// Tells idle workers (of every host) that jobs became pending or a worker was asked to stop.
    /// Sent after the change committed, in a transaction of its own that does not wait for the
    /// WAL flush: PostgreSQL serializes the commits of notifying transactions, so a NOTIFY
    /// inside each submission would make concurrent submissions wait for each other's disk
    /// writes. A failure is ignored: workers also look on their own (-PollInterval).
    /// </summary>
    private void WakeWorkers()
    {
        try
        {
            using var conn = NotifySource.OpenConnection();
            Sql(conn, $"SELECT pg_notify('{JobsChannel}', '')").ExecuteNonQuery();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            // The change itself is committed; a worker that missed the wake-up finds it on its next look.
        }
    }

    private List<JobWorker> ReadWorkers(NpgsqlConnection conn, NpgsqlTransaction? tx, string where, DateTimeOffset now, params (string Name, object Value)[] values)
    {
        using var cmd = Sql(conn, $"SELECT {WorkerColumns} FROM workers w {where} ORDER BY w.worker_id", tx);
        foreach (var (name, value) in values) cmd.Arg(name, value);
        var workers = new List<JobWorker>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var lastHeartbeat = r.GetFieldValue<DateTime>(4);
            var lease = r.IsDBNull(10) ? (TimeSpan?)null : TimeSpan.FromSeconds(r.GetDouble(10));
            var stopRequested = r.GetBoolean(9);
            var state = JobWorker.StateOf(r.GetString(5), lastHeartbeat, lease, stopRequested, now);
            workers.Add(new JobWorker
            {
                WorkerId = r.GetString(0),
                HostName = r.GetString(1),
                ProcessId = r.GetInt32(2),
                StartedAt = LocalTime(r, 3)!.Value,
                LastHeartbeat = lastHeartbeat.ToLocalTime(),
                State = state,
                Gpus = r.IsDBNull(6) ? null : GpuList.Parse(r.GetString(6)),
                JobsCompleted = r.GetInt32(7),
                JobsFailed = r.GetInt32(8),
                StopRequested = stopRequested,
                LeaseDuration = lease,
                CurrentJobIds = r.GetFieldValue<long[]>(11),
                Database = Database,
            });
        }
        return workers;
    }

    private static void ReadLeases(NpgsqlCommand cmd, List<ExpiredLease> into)
    {
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            into.Add(new ExpiredLease(
                r.GetInt64(0),
                r.GetInt32(1),
                r.IsDBNull(2) ? null : r.GetString(2),
                r.IsDBNull(3) ? null : r.GetString(3),
                r.IsDBNull(4) ? null : r.GetInt32(4),
                ReadUtc(r, 5),
                r.GetBoolean(6),
                r.GetInt32(7),
                r.GetInt32(8),
                ReadUtc(r, 9)));
        }
    }

    private static DateTimeOffset? ReadUtc(NpgsqlDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : new DateTimeOffset(r.GetFieldValue<DateTime>(ordinal), TimeSpan.Zero);
}
