namespace JobQueue.Engine.Storage.Sqlite;

/// <summary>
/// Versioned schema steps, applied in order inside one write transaction. The version lives in
/// PRAGMA user_version; the file is marked as ours with PRAGMA application_id.
/// Never edit a released step: add a new one.
/// </summary>
internal static class SqliteMigrations
{
    /// <summary>"JobQ" in ASCII.</summary>
    public const int ApplicationId = 0x4A6F6251;

    public static readonly string[] Steps =
    {
        // 1: the guide's three tables with their column names, plus what leases, retries,
        // GPUs and exactly-once scheduling need.
        """
        CREATE TABLE jobs (
            job_id           INTEGER PRIMARY KEY,
            job_type         TEXT    NOT NULL,
            status           TEXT    NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending','running','completed','failed','cancelled')),
            priority         INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
            config           TEXT    NOT NULL DEFAULT '{}',
            created_at       TEXT    NOT NULL,
            started_at       TEXT,
            completed_at     TEXT,
            error_message    TEXT,
            worker_id        TEXT,
            retry_count      INTEGER NOT NULL DEFAULT 0,
            max_retries      INTEGER NOT NULL DEFAULT 3,
            name             TEXT,
            command          TEXT,
            timeout_seconds  REAL,
            gpu_count        INTEGER NOT NULL DEFAULT 0,
            gpus             TEXT,
            exit_code        INTEGER,
            schedule_id      INTEGER,
            scheduled_for    TEXT,
            not_before       TEXT,
            attempt          INTEGER NOT NULL DEFAULT 0,
            lease_expires_at TEXT,
            cancel_requested INTEGER NOT NULL DEFAULT 0,
            host_name        TEXT,
            process_id       INTEGER
        );
        -- The claim order. Partial, so it holds only what is waiting and stays small on a queue of millions.
        CREATE INDEX ix_jobs_claim ON jobs (priority DESC, job_id) WHERE status = 'pending';
        CREATE INDEX ix_jobs_lease ON jobs (lease_expires_at) WHERE status = 'running';
        CREATE UNIQUE INDEX ux_jobs_occurrence ON jobs (schedule_id, scheduled_for) WHERE scheduled_for IS NOT NULL;

        -- Counts per (type, status), kept by triggers so statistics cost the same on any queue size
        -- and stay right whatever changes a row (including hand-written SQL).
        CREATE TABLE job_counts (
            job_type TEXT    NOT NULL,
            status   TEXT    NOT NULL,
            n        INTEGER NOT NULL,
            PRIMARY KEY (job_type, status)
        ) WITHOUT ROWID;
        CREATE TRIGGER tr_jobs_count_insert AFTER INSERT ON jobs BEGIN
            INSERT INTO job_counts (job_type, status, n) VALUES (NEW.job_type, NEW.status, 1)
                ON CONFLICT (job_type, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER tr_jobs_count_update AFTER UPDATE OF status, job_type ON jobs
            WHEN OLD.status IS NOT NEW.status OR OLD.job_type IS NOT NEW.job_type BEGIN
            UPDATE job_counts SET n = n - 1 WHERE job_type = OLD.job_type AND status = OLD.status;
            INSERT INTO job_counts (job_type, status, n) VALUES (NEW.job_type, NEW.status, 1)
                ON CONFLICT (job_type, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER tr_jobs_count_delete AFTER DELETE ON jobs BEGIN
            UPDATE job_counts SET n = n - 1 WHERE job_type = OLD.job_type AND status = OLD.status;
        END;

        CREATE TABLE job_logs (
            log_id    INTEGER PRIMARY KEY,
            job_id    INTEGER NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
            timestamp TEXT    NOT NULL,
            level     TEXT    NOT NULL CHECK (level IN ('INFO','WARNING','ERROR')),
            message   TEXT    NOT NULL,
            attempt   INTEGER
        );
        CREATE INDEX ix_job_logs_job ON job_logs (job_id, log_id);

        CREATE TABLE schedules (
            schedule_id     INTEGER PRIMARY KEY AUTOINCREMENT,
            name            TEXT    NOT NULL UNIQUE,
            job_type        TEXT    NOT NULL,
            config          TEXT    NOT NULL DEFAULT '{}',
            schedule_expr   TEXT    NOT NULL,
            priority        INTEGER NOT NULL DEFAULT 5 CHECK (priority BETWEEN 1 AND 10),
            enabled         INTEGER NOT NULL DEFAULT 1,
            next_run        TEXT,
            last_run        TEXT,
            created_at      TEXT    NOT NULL,
            time_zone       TEXT    NOT NULL DEFAULT 'UTC',
            max_retries     INTEGER NOT NULL DEFAULT 3,
            command         TEXT,
            timeout_seconds REAL,
            gpu_count       INTEGER NOT NULL DEFAULT 0,
            misfire_policy  TEXT    NOT NULL DEFAULT 'RunOnce',
            overlap_policy  TEXT    NOT NULL DEFAULT 'Allow',
            updated_at      TEXT
        );
        CREATE INDEX ix_schedules_due ON schedules (next_run) WHERE enabled = 1;

        CREATE TABLE workers (
            worker_id      TEXT PRIMARY KEY,
            host_name      TEXT    NOT NULL,
            process_id     INTEGER NOT NULL,
            started_at     TEXT    NOT NULL,
            last_heartbeat TEXT    NOT NULL,
            state          TEXT    NOT NULL DEFAULT 'running',
            gpus           TEXT,
            jobs_completed INTEGER NOT NULL DEFAULT 0,
            jobs_failed    INTEGER NOT NULL DEFAULT 0,
            stop_requested INTEGER NOT NULL DEFAULT 0,
            lease_seconds  REAL
        );

        CREATE TABLE jobqueue_settings (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,

        // 2: workers. The start time of an attempt's trainer process, so a rescue can tell the
        // orphan of a dead attempt from an unrelated process that reuses its pid; indexes for
        // a worker's running jobs and for the next due retry.
        """
        ALTER TABLE jobs ADD COLUMN process_started_at TEXT;
        CREATE INDEX ix_jobs_running_worker ON jobs (worker_id) WHERE status = 'running';
        CREATE INDEX ix_jobs_pending_due ON jobs (not_before) WHERE status = 'pending';
        """,

        // 3: batch inserts. The insert counter trigger stands aside while the batch path holds
        // the flag row (inserted and deleted inside its own write transaction, so no other
        // connection ever sees it); the batch adds its counts once per job type instead of once
        // per row. The index of delayed pending jobs holds only jobs that have a delay: a plain
        // submission no longer adds an entry to it. Queries on it compare not_before, which
        // implies NOT NULL, so SQLite still uses it.
        """
        DROP TRIGGER tr_jobs_count_insert;
        CREATE TRIGGER tr_jobs_count_insert AFTER INSERT ON jobs
            WHEN NOT EXISTS (SELECT 1 FROM jobqueue_settings WHERE key = 'batch_counts_pending') BEGIN
            INSERT INTO job_counts (job_type, status, n) VALUES (NEW.job_type, NEW.status, 1)
                ON CONFLICT (job_type, status) DO UPDATE SET n = n + 1;
        END;
        DROP INDEX ix_jobs_pending_due;
        CREATE INDEX ix_jobs_pending_delayed ON jobs (not_before) WHERE status = 'pending' AND not_before IS NOT NULL;
        """,

        // 4: one index of running jobs instead of two. The rescue pass finds expired leases by
        // reading the running jobs through the index by worker (running jobs are as many as the
        // workers run at once), so a claim and a completion no longer write a second index.
        """
        DROP INDEX ix_jobs_lease;
        """,

        // 5: a claim no longer writes the counters. Pending and running jobs of a type share one
        // counter row, status 'active', changed only when a job enters or leaves that pair; the
        // statistics split it by counting the running jobs through their index, which now also
        // holds the job type and status so that the count reads only the index, and the lease,
        // so that the rescue pass reads only the jobs whose lease has expired. A claim, and an
        // interrupted attempt's return to the queue, then write one page less and run no trigger.
        """
        DROP TRIGGER tr_jobs_count_insert;
        DROP TRIGGER tr_jobs_count_update;
        DROP TRIGGER tr_jobs_count_delete;
        INSERT INTO job_counts (job_type, status, n)
            SELECT job_type, 'active', sum(n) FROM job_counts WHERE status IN ('pending', 'running') GROUP BY job_type;
        DELETE FROM job_counts WHERE status IN ('pending', 'running');
        CREATE TRIGGER tr_jobs_count_insert AFTER INSERT ON jobs
            WHEN NOT EXISTS (SELECT 1 FROM jobqueue_settings WHERE key = 'batch_counts_pending') BEGIN
            INSERT INTO job_counts (job_type, status, n)
                VALUES (NEW.job_type, CASE WHEN NEW.status IN ('pending', 'running') THEN 'active' ELSE NEW.status END, 1)
                ON CONFLICT (job_type, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER tr_jobs_count_update AFTER UPDATE OF status, job_type ON jobs
            WHEN OLD.job_type IS NOT NEW.job_type
              OR (CASE WHEN OLD.status IN ('pending', 'running') THEN 'active' ELSE OLD.status END)
                 IS NOT (CASE WHEN NEW.status IN ('pending', 'running') THEN 'active' ELSE NEW.status END) BEGIN
            UPDATE job_counts SET n = n - 1
                WHERE job_type = OLD.job_type AND status = CASE WHEN OLD.status IN ('pending', 'running') THEN 'active' ELSE OLD.status END;
            INSERT INTO job_counts (job_type, status, n)
                VALUES (NEW.job_type, CASE WHEN NEW.status IN ('pending', 'running') THEN 'active' ELSE NEW.status END, 1)
                ON CONFLICT (job_type, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER tr_jobs_count_delete AFTER DELETE ON jobs BEGIN
            UPDATE job_counts SET n = n - 1
                WHERE job_type = OLD.job_type AND status = CASE WHEN OLD.status IN ('pending', 'running') THEN 'active' ELSE OLD.status END;
        END;
        DROP INDEX ix_jobs_running_worker;
        CREATE INDEX ix_jobs_running_worker ON jobs (worker_id, job_type, status, lease_expires_at) WHERE status = 'running';
        """,
    };

    public static int LatestVersion => Steps.Length;
}
