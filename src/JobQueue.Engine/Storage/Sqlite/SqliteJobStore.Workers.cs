using System.Globalization;
using Microsoft.Data.Sqlite;

namespace JobQueue.Engine.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <summary>Stopped or lost workers are forgotten after this long (when no job of theirs is running).</summary>
    private static readonly TimeSpan ForgetWorkersAfter = TimeSpan.FromDays(7);

    private const string WorkerColumns =
        "w.worker_id, w.host_name, w.process_id, w.started_at, w.last_heartbeat, w.state, w.gpus, w.jobs_completed, " +
        "w.jobs_failed, w.stop_requested, w.lease_seconds, " +
        "(SELECT group_concat(job_id) FROM (SELECT job_id FROM jobs j WHERE j.status = 'running' AND j.worker_id = w.worker_id ORDER BY job_id))";

    public void RegisterWorker(WorkerRegistration registration, DateTimeOffset now) => Guard(() =>
    {
        using var tx = BeginWrite();
        var existing = ReadWorkers("WHERE w.worker_id = $id", now, tx, ("$id", registration.WorkerId)).FirstOrDefault();
        var sameHost = existing is not null && string.Equals(existing.HostName, registration.HostName, StringComparison.OrdinalIgnoreCase);
        var replaceable = sameHost && (existing!.ProcessId == registration.ProcessId || existing.ProcessId == registration.ReplacesDeadProcessId);
        if (existing is { State: WorkerState.Running or WorkerState.Stopping } && !replaceable)
        {
            throw new JobQueueException(ErrorKind.InvalidArgument,
                $"The worker id '{registration.WorkerId}' is in use by process {existing.ProcessId} on '{existing.HostName}' (last heartbeat {existing.LastHeartbeat:yyyy-MM-dd HH:mm:ss}). Choose another -WorkerId, or stop that worker first.",
                registration.WorkerId, code: "WorkerIdInUse");
        }

        var forget = Command(
            "DELETE FROM workers WHERE last_heartbeat < $cutoff AND worker_id <> $id " +
            "AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.status = 'running' AND j.worker_id = workers.worker_id)", tx);
        forget.Parameters["$cutoff"].Value = Timestamps.ToText(now - ForgetWorkersAfter);
        forget.Parameters["$id"].Value = registration.WorkerId;
        forget.ExecuteNonQuery();

        var stamp = Timestamps.ToText(now);
        var cmd = Command(
            "INSERT INTO workers (worker_id, host_name, process_id, started_at, last_heartbeat, state, gpus, jobs_completed, jobs_failed, stop_requested, lease_seconds) " +
            "VALUES ($id, $host, $pid, $now, $now, 'running', $gpus, 0, 0, 0, $lease) " +
            "ON CONFLICT (worker_id) DO UPDATE SET host_name = excluded.host_name, process_id = excluded.process_id, " +
            "started_at = excluded.started_at, last_heartbeat = excluded.last_heartbeat, state = 'running', gpus = excluded.gpus, " +
            "jobs_completed = 0, jobs_failed = 0, stop_requested = 0, lease_seconds = excluded.lease_seconds", tx);
        cmd.Parameters["$id"].Value = registration.WorkerId;
        cmd.Parameters["$host"].Value = registration.HostName;
        cmd.Parameters["$pid"].Value = registration.ProcessId;
        cmd.Parameters["$now"].Value = stamp;
        cmd.Parameters["$gpus"].Value = Db(GpuList.Format(registration.Gpus));
        cmd.Parameters["$lease"].Value = registration.LeaseDuration.TotalSeconds;
        cmd.ExecuteNonQuery();
        tx.Commit();
        return 0;
    });

    public WorkerHeartbeatResult Heartbeat(WorkerHeartbeat heartbeat, DateTimeOffset now) => Guard(() =>
    {
        using var tx = BeginWrite();
        var row = Command(
            "UPDATE workers SET last_heartbeat = $now, state = $state, jobs_completed = $done, jobs_failed = $failed " +
            "WHERE worker_id = $id RETURNING stop_requested", tx);
        row.Parameters["$now"].Value = Timestamps.ToText(now);
        row.Parameters["$state"].Value = heartbeat.State.ToDb();
        row.Parameters["$done"].Value = heartbeat.JobsCompleted;
        row.Parameters["$failed"].Value = heartbeat.JobsFailed;
        row.Parameters["$id"].Value = heartbeat.WorkerId;
        var stop = row.ExecuteScalar();

        var lost = new List<long>();
        var renew = Command(
            "UPDATE jobs SET lease_expires_at = $lease WHERE job_id = $job AND attempt = $attempt AND worker_id = $worker AND status = 'running'", tx);
        foreach (var attempt in heartbeat.Attempts)
        {
            renew.Parameters["$lease"].Value = Timestamps.ToText(heartbeat.LeaseExpiresAt);
            renew.Parameters["$job"].Value = attempt.JobId;
            renew.Parameters["$attempt"].Value = attempt.Attempt;
            renew.Parameters["$worker"].Value = heartbeat.WorkerId;
            if (renew.ExecuteNonQuery() == 0) lost.Add(attempt.JobId);
        }
        tx.Commit();
        return new WorkerHeartbeatResult(stop is not null, stop is long flag && flag != 0, lost);
    });

    public WorkerPoll Poll(string workerId, IReadOnlyList<long> jobIds) => Guard(() =>
    {
        var flag = Command("SELECT stop_requested FROM workers WHERE worker_id = $id");
        flag.Parameters["$id"].Value = workerId;
        var stop = flag.ExecuteScalar() is long value && value != 0;
        var jobs = new List<JobRunState>();
        if (jobIds.Count > 0)
        {
            var cmd = Command("SELECT job_id, status, attempt, worker_id, cancel_requested FROM jobs WHERE job_id IN " + InList("id", jobIds.Count));
            for (var i = 0; i < jobIds.Count; i++) cmd.Parameters[$"$id{i}"].Value = jobIds[i];
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
            {
                jobs.Add(new JobRunState(reader.GetInt64(0), EnumText.ParseStatus(reader.GetString(1)), reader.GetInt32(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetInt64(4) != 0));
            }
        }
        return new WorkerPoll(stop, jobs);
    });

    public IReadOnlyList<JobWorker> ListWorkers(DateTimeOffset now) => Guard(() => ReadWorkers("", now, null));

    public JobWorker? RequestWorkerStop(string workerId, DateTimeOffset now) => Guard(() =>
    {
        var cmd = Command("UPDATE workers SET stop_requested = 1 WHERE worker_id = $id");
        cmd.Parameters["$id"].Value = workerId;
        if (cmd.ExecuteNonQuery() == 0) return null;
        return ReadWorkers("WHERE w.worker_id = $id", now, null, ("$id", workerId)).FirstOrDefault();
    });

    public bool RecordJobProcess(JobProcessRecord record) => Guard(() =>
    {
        var cmd = Command(
            "UPDATE jobs SET gpus = $gpus, process_id = $pid, process_started_at = $started " +
            "WHERE job_id = $id AND attempt = $attempt AND worker_id = $worker AND status = 'running'");
        cmd.Parameters["$gpus"].Value = Db(GpuList.Format(record.Gpus));
        cmd.Parameters["$pid"].Value = Db(record.ProcessId);
        cmd.Parameters["$started"].Value = Db(record.ProcessStartedAt is { } s ? Timestamps.ToText(s) : null);
        cmd.Parameters["$id"].Value = record.JobId;
        cmd.Parameters["$attempt"].Value = record.Attempt;
        cmd.Parameters["$worker"].Value = record.WorkerId;
        return cmd.ExecuteNonQuery() == 1;
    });

    public PendingOutlook PeekPending(IReadOnlyList<string>? types, int maxGpuCount, DateTimeOffset now) => Guard(() =>
    {
        var filter = "status = 'pending' AND gpu_count <= $maxGpus" + (types is { Count: > 0 } t ? " AND job_type IN " + InList("ty", t.Count) : "");
        var cmd = Command(
            $"SELECT EXISTS (SELECT 1 FROM jobs WHERE {filter} AND (not_before IS NULL OR not_before <= $now)), " +
            $"(SELECT min(not_before) FROM jobs WHERE {filter} AND not_before > $now AND retry_count > 0), " +
            $"(SELECT min(not_before) FROM jobs WHERE {filter} AND not_before > $now AND retry_count = 0)");
        cmd.Parameters["$maxGpus"].Value = maxGpuCount;
        cmd.Parameters["$now"].Value = Timestamps.ToText(now);
        if (types is { Count: > 0 } list)
        {
            for (var i = 0; i < list.Count; i++) cmd.Parameters[$"$ty{i}"].Value = list[i];
        }
        using var reader = cmd.ExecuteReader();
        reader.Read();
        return new PendingOutlook(reader.GetInt64(0) != 0, ReadUtc(reader, 1), ReadUtc(reader, 2));
    });

    public IReadOnlyList<ExpiredLease> FindExpiredLeases(DateTimeOffset now, int limit, string? releaseWorkerId = null) => Guard(() =>
    {
        const string columns = "job_id, attempt, worker_id, host_name, process_id, process_started_at, cancel_requested, retry_count, max_retries, lease_expires_at";
        var leases = new List<ExpiredLease>();
        var expired = Command($"SELECT {columns} FROM jobs INDEXED BY ix_jobs_running_worker WHERE status = 'running' AND lease_expires_at < $now ORDER BY lease_expires_at LIMIT $limit");
        expired.Parameters["$now"].Value = Timestamps.ToText(now);
        expired.Parameters["$limit"].Value = limit;
        ReadLeases(expired, leases);
        if (releaseWorkerId is not null)
        {
            var owned = Command($"SELECT {columns} FROM jobs WHERE status = 'running' AND worker_id = $worker ORDER BY job_id LIMIT $limit");
            owned.Parameters["$worker"].Value = releaseWorkerId;
            owned.Parameters["$limit"].Value = limit;
            ReadLeases(owned, leases);
        }
        return (IReadOnlyList<ExpiredLease>)leases.DistinctBy(l => l.JobId).ToList();
    });

    private static void ReadLeases(SqliteCommand cmd, List<ExpiredLease> into)
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
                r.GetInt64(6) != 0,
                r.GetInt32(7),
                r.GetInt32(8),
                ReadUtc(r, 9)));
        }
    }

    public bool HoldExpiredLease(ExpiredLease lease, string rescuerId, DateTimeOffset holdUntil, DateTimeOffset now, string? releaseWorkerId = null) => Guard(() =>
    {
        var cmd = Command(
            "UPDATE jobs SET worker_id = $rescuer, lease_expires_at = $hold " +
            "WHERE job_id = $id AND attempt = $attempt AND status = 'running' AND (lease_expires_at < $now OR worker_id = $release)");
        cmd.Parameters["$rescuer"].Value = rescuerId;
        cmd.Parameters["$hold"].Value = Timestamps.ToText(holdUntil);
        cmd.Parameters["$id"].Value = lease.JobId;
        cmd.Parameters["$attempt"].Value = lease.Attempt;
        cmd.Parameters["$now"].Value = Timestamps.ToText(now);
        cmd.Parameters["$release"].Value = Db(releaseWorkerId);
        return cmd.ExecuteNonQuery() == 1;
    });

    // SET expressions all see the row as it was, so each CASE takes the same branch.
    private const string RescueRetrying = "(cancel_requested = 0 AND retry_count < max_retries)";

    private const string CompleteRescueSql =
        "UPDATE jobs SET " +
        "status = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN retry_count < max_retries THEN 'pending' ELSE 'failed' END, " +
        "error_message = CASE WHEN cancel_requested = 1 THEN $cancelled WHEN retry_count < max_retries THEN $retry ELSE $failed END, " +
        $"retry_count = CASE WHEN {RescueRetrying} THEN retry_count + 1 ELSE retry_count END, " +
        $"completed_at = CASE WHEN {RescueRetrying} THEN NULL ELSE $now END, " +
        $"started_at = CASE WHEN {RescueRetrying} THEN NULL ELSE started_at END, " +
        $"worker_id = CASE WHEN {RescueRetrying} THEN NULL ELSE $previous END, " +
        $"not_before = CASE WHEN {RescueRetrying} THEN NULL ELSE not_before END, " +
        $"gpus = CASE WHEN {RescueRetrying} THEN NULL ELSE gpus END, " +
        $"process_id = CASE WHEN {RescueRetrying} THEN NULL ELSE process_id END, " +
        $"process_started_at = CASE WHEN {RescueRetrying} THEN NULL ELSE process_started_at END, " +
        "lease_expires_at = NULL, exit_code = NULL " +
        $"WHERE job_id = $id AND attempt = $attempt AND worker_id = $rescuer AND status = 'running' RETURNING {JobColumns}";

    public TrainingJob? CompleteRescue(RescueCompletion completion, DateTimeOffset now)
    {
        var row = Guard(() =>
        {
            var cmd = RowCommand(CompleteRescueSql);
            cmd.Bind("$cancelled", completion.CancelledMessage);
            cmd.Bind("$retry", completion.RetryMessage);
            cmd.Bind("$failed", completion.FailedMessage);
            cmd.Bind("$now", Timestamps.ToText(now));
            cmd.Bind("$previous", completion.PreviousWorkerId);
            cmd.Bind("$id", completion.JobId);
            cmd.Bind("$attempt", completion.Attempt);
            cmd.Bind("$rescuer", completion.RescuerId);
            return cmd.ExecuteRow();
        });
        return row is null ? null : ToJob(row);
    }

    public IDisposable? WatchChanges(Action changed)
    {
        // Every commit appends to the -wal file (and a checkpoint rewrites the main file), so a
        // watch on the database's files wakes idle workers at once, with no polling. Reads
        // write nothing there, so a worker's own empty claims never wake it.
        try
        {
            var folder = System.IO.Path.GetDirectoryName(Path)!;
            var watcher = new FileSystemWatcher(folder, System.IO.Path.GetFileName(Path) + "*")
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            FileSystemEventHandler onChange = (_, _) => changed();
            watcher.Changed += onChange;
            watcher.Created += onChange;
            watcher.Renamed += (_, _) => changed();
            watcher.Error += (_, _) => changed();
            watcher.EnableRaisingEvents = true;
            return watcher;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private List<JobWorker> ReadWorkers(string where, DateTimeOffset now, SqliteTransaction? tx, params (string Name, object Value)[] values)
    {
        var cmd = Command($"SELECT {WorkerColumns} FROM workers w {where} ORDER BY w.worker_id", tx);
        foreach (var (name, value) in values) cmd.Parameters[name].Value = value;
        var workers = new List<JobWorker>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var lastHeartbeat = Timestamps.ParseUtc(r.GetString(4));
            var lease = r.IsDBNull(10) ? (TimeSpan?)null : TimeSpan.FromSeconds(r.GetDouble(10));
            var stopRequested = r.GetInt64(9) != 0;
            var state = JobWorker.StateOf(r.GetString(5), lastHeartbeat, lease, stopRequested, now);
            workers.Add(new JobWorker
            {
                WorkerId = r.GetString(0),
                HostName = r.GetString(1),
                ProcessId = r.GetInt32(2),
                StartedAt = Timestamps.ToLocal(r.GetString(3))!.Value,
                LastHeartbeat = lastHeartbeat.ToLocalTime(),
                State = state,
                Gpus = r.IsDBNull(6) ? null : GpuList.Parse(r.GetString(6)),
                JobsCompleted = r.GetInt64(7),
                JobsFailed = r.GetInt64(8),
                StopRequested = stopRequested,
                LeaseDuration = lease,
                CurrentJobIds = r.IsDBNull(11)
                    ? Array.Empty<long>()
                    : r.GetString(11).Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
                Database = Database,
            });
        }
        return workers;
    }

    private static DateTimeOffset? ReadUtc(SqliteDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : new DateTimeOffset(Timestamps.ParseUtc(r.GetString(ordinal)), TimeSpan.Zero);
}
