using System.Text.RegularExpressions;
using JobQueue.Engine.Storage;

namespace JobQueue.Engine;

/// <summary>
/// The engine's API for everything a user does to jobs: it validates, applies the clock and the
/// retry policy, and calls the store. Drivable from a cmdlet, a test or a console program.
/// </summary>
public sealed partial class JobClient
{
    public const int MinPriority = 1;
    public const int MaxPriority = 10;
    public const int DefaultPriority = 5;
    public const int DefaultMaxRetries = 3;
    public const int MaxNameLength = 256;
    public static readonly TimeSpan DefaultClaimLease = TimeSpan.FromMinutes(30);
    public static readonly string[] KnownJobTypes = { "training", "evaluation", "export", "retraining" };

    // \z, not $: "$" also matches before a final newline, which let "training\n" in.
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_.-]{0,63}\z")]
    private static partial Regex JobTypePattern();

    public JobClient(IJobStore store, IClock? clock = null, RetryPolicy? retryPolicy = null)
    {
        Store = store;
        Clock = clock ?? SystemClock.Instance;
        RetryPolicy = retryPolicy ?? RetryPolicy.Default;
    }

    public IJobStore Store { get; }
    public IClock Clock { get; }
    public RetryPolicy RetryPolicy { get; }

    /// <summary>This host's name, recorded on each claim (a system call each time it is read).</summary>
    private static readonly string HostName = Environment.MachineName;

    public static string DefaultWorkerId() => $"{Environment.MachineName.ToLowerInvariant()}-{Environment.ProcessId}";

    // ---- validation -----------------------------------------------------------------------

    public static void ValidateJobType(string? type)
    {
        if (type is null || !JobTypePattern().IsMatch(type))
        {
            throw new JobQueueException(ErrorKind.InvalidArgument,
                $"'{Shorten(type)}' is not a valid job type. Use training, evaluation, export, retraining, or a name that starts with a letter and has up to 64 letters, digits, '_', '.' or '-'.",
                type, code: "InvalidJobType");
        }
    }

    public static void ValidatePriority(int priority)
    {
        if (priority is < MinPriority or > MaxPriority)
        {
            throw new JobQueueException(ErrorKind.InvalidArgument,
                $"Priority {priority} is out of range; use 1 (lowest) to 10 (highest).", priority, code: "InvalidPriority");
        }
    }

    public static void ValidateMaxRetries(int maxRetries)
    {
        if (maxRetries is < 0 or > 1000)
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, $"MaxRetries {maxRetries} is out of range; use 0 to 1000.", maxRetries, code: "InvalidMaxRetries");
        }
    }

    public static void Validate(NewJob job) => Validate(job, checkType: true);

    private static void Validate(NewJob job, bool checkType)
    {
        if (checkType) ValidateJobType(job.JobType);
        ValidatePriority(job.Priority);
        ValidateMaxRetries(job.MaxRetries);
        if (job.GpuCount is < 0 or > 1024)
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, $"GpuCount {job.GpuCount} is out of range; use 0 to 1024.", job.GpuCount);
        }
        if (job.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, $"Timeout {timeout} must be positive.", timeout);
        }
        if (job.Name is { Length: > MaxNameLength })
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, $"A job name may have at most {MaxNameLength} characters.", Shorten(job.Name));
        }
        TextRules.Validate(job.Name, "job name");
        if (job.Command is { } command)
        {
            ValidateCommand(command);
        }
    }

    /// <summary>An argument vector a program can receive: no null and no NUL (argv holds C strings), text that stores exactly.</summary>
    public static void ValidateCommand(IReadOnlyList<string> command)
    {
        if (command.Count == 0 || string.IsNullOrEmpty(command[0]))
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, "The command must start with the program to run.", null);
        }
        for (var i = 0; i < command.Count; i++)
        {
            if (command[i] is null)
            {
                throw new JobQueueException(ErrorKind.InvalidArgument, $"Argument {i} of the command is null; pass '' for an empty argument.", null);
            }
            if (command[i].Contains('\0'))
            {
                throw new JobQueueException(ErrorKind.InvalidArgument, $"Argument {i} of the command contains a NUL character, which no program can receive.", null);
            }
            TextRules.Validate(command[i], $"command argument {i}");
        }
    }

    internal static string Shorten(string? text) =>
        text is null ? "(null)" : text.Length <= 80 ? text : text[..77] + "...";

    // ---- jobs -----------------------------------------------------------------------------

    public TrainingJob Submit(NewJob job)
    {
        Validate(job);
        job = job with { ConfigJson = ConfigJson.NormalizeObject(job.ConfigJson) };
        var now = Clock.UtcNow;
        var id = Store.Insert(job, now);
        return NewJobView.ToJob(job, id, NewJobView.StoredLocalTime(now), Store.Database);
    }

    /// <summary>Inserts many jobs in one transaction; all are validated first, so a bad one changes nothing.</summary>
    public IReadOnlyList<TrainingJob> SubmitBatch(IReadOnlyList<NewJob> jobs)
    {
        var normalized = new NewJob[jobs.Count];
        // Jobs of a batch usually share their type string (and often their config): a value
        // that is the very same string as the previous job's was checked already.
        string? lastNormalized = null;
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            var previous = i > 0 ? jobs[i - 1] : null;
            Validate(job, checkType: previous is null || !ReferenceEquals(job.JobType, previous.JobType));
            if (previous is null || !ReferenceEquals(job.ConfigJson, previous.ConfigJson))
            {
                lastNormalized = ConfigJson.NormalizeObject(job.ConfigJson);
            }
            normalized[i] = ReferenceEquals(lastNormalized, job.ConfigJson) ? job : job with { ConfigJson = lastNormalized! };
        }
        if (normalized.Length == 0) return Array.Empty<TrainingJob>();
        var now = Clock.UtcNow;
        var ids = Store.InsertBatch(normalized, now);
        var created = new TrainingJob[ids.Count];
        var createdAt = NewJobView.StoredLocalTime(now);
        for (var i = 0; i < created.Length; i++)
        {
            created[i] = NewJobView.ToJob(normalized[i], ids[i], createdAt, Store.Database);
        }
        return created;
    }

    public TrainingJob GetJob(long jobId) => Store.Get(jobId) ?? throw NotFound(jobId);

    public TrainingJob? Claim(string workerId, IReadOnlyList<string>? types = null, TimeSpan? lease = null, int maxGpuCount = int.MaxValue)
    {
        var now = Clock.UtcNow;
        return Store.Claim(ClaimRequestFor(workerId, types, lease, maxGpuCount, now), now);
    }

    private ClaimRequest ClaimRequestFor(string workerId, IReadOnlyList<string>? types, TimeSpan? lease, int maxGpuCount, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(workerId))
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, "The worker id must not be empty.", workerId);
        }
        TextRules.Validate(workerId, "worker id");
        if (types is not null)
        {
            foreach (var type in types) ValidateJobType(type);
        }
        return new ClaimRequest(workerId, Saturate(now, lease ?? DefaultClaimLease), types, maxGpuCount, HostName);
    }

    public TrainingJob Finish(FinishRequest request)
    {
        var now = Clock.UtcNow;
        return Store.Finish(Complete(request, now), now);
    }

    /// <summary>
    /// Records the outcome of <paramref name="request"/> and, when it is a success, claims the
    /// next job for <paramref name="workerId"/> in the same write transaction: a worker's slot
    /// passes from one job to the next with one commit instead of two. The claim takes the same
    /// arguments as <see cref="Claim"/>; the result's Next is null when nothing was claimed. The
    /// finished attempt must be held by <paramref name="workerId"/>.
    /// </summary>
    public FinishedAndNext FinishAndClaim(FinishRequest request, string workerId, IReadOnlyList<string>? types = null, TimeSpan? lease = null,
        int maxGpuCount = int.MaxValue)
    {
        if (request.WorkerId is { } owner && !string.Equals(owner, workerId, StringComparison.Ordinal))
        {
            throw new JobQueueException(ErrorKind.InvalidArgument,
                $"Worker '{workerId}' can claim its next job only with the completion of a job it holds, not one of worker '{owner}'.", workerId);
        }
        var now = Clock.UtcNow;
        var next = ClaimRequestFor(workerId, types, lease, maxGpuCount, now);
        return Store.FinishAndClaim(Complete(request with { WorkerId = workerId }, now), next, now);
    }

    private FinishRequest Complete(FinishRequest request, DateTimeOffset now)
    {
        TextRules.Validate(request.ErrorMessage, "error message");
        return request with
        {
            RetryPolicy = request.RetryPolicy ?? RetryPolicy,
            RetryDelay = request.RetryDelay is { } delay ? Saturate(now, delay) : null,
        };
    }

    /// <summary>
    /// A span that drivers can add to <paramref name="now"/> without overflowing: TimeSpan.MaxValue
    /// (a lease or a retry delay meaning "never") ends at the last representable time.
    /// </summary>
    private static TimeSpan Saturate(DateTimeOffset now, TimeSpan span) => Timestamps.AddSaturating(now, span) - now;

    public TrainingJob Cancel(long jobId) => Store.Cancel(jobId, Clock.UtcNow);

    public TrainingJob Restart(long jobId) => Store.Restart(jobId, Clock.UtcNow);

    public void Remove(long jobId) => Store.Remove(jobId);

    public int RemoveFinished(IReadOnlyCollection<JobStatus> statuses, TimeSpan olderThan)
    {
        if (statuses.Any(s => !s.IsTerminal()))
        {
            throw new JobQueueException(ErrorKind.InvalidArgument,
                "Only completed, failed or cancelled jobs can be removed by age.", string.Join(",", statuses));
        }
        if (olderThan < TimeSpan.Zero)
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, "OlderThan must not be negative.", olderThan);
        }
        return Store.RemoveFinished(statuses, Timestamps.AddSaturating(Clock.UtcNow, -olderThan));
    }

    // ---- logs -----------------------------------------------------------------------------

    public long Log(long jobId, JobLogLevel level, string message, int? attempt = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        TextRules.Validate(message, "log message");
        return Store.AddLog(jobId, level, message, Clock.UtcNow, attempt);
    }

    public IReadOnlyList<JobLogEntry> GetLogs(LogQuery query)
    {
        if (query.Tail is < 0)
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, "Tail must not be negative.", query.Tail);
        }
        var logs = Store.GetLogs(query);
        if (logs.Count == 0 && query.AfterLogId == 0 && Store.Get(query.JobId) is null)
        {
            throw NotFound(query.JobId);
        }
        return logs;
    }

    // ---- the queue ------------------------------------------------------------------------

    public JobQueueStatistics Statistics(string? jobType = null)
    {
        if (jobType is not null) ValidateJobType(jobType);
        return Store.Statistics(jobType);
    }

    public void Backup(string destinationPath, bool overwrite)
    {
        string full;
        try
        {
            full = Path.GetFullPath(destinationPath);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, $"'{Printable(destinationPath)}' is not a valid file path: {ex.Message}", null, ex, "InvalidDestination");
        }
        if (Store is Storage.Sqlite.SqliteJobStore sqlite && string.Equals(full, sqlite.Path, StringComparison.Ordinal))
        {
            throw new JobQueueException(ErrorKind.InvalidArgument, "The backup destination is the database itself; choose another file.", full);
        }
        if (Directory.Exists(full))
        {
            throw new JobQueueException(ErrorKind.DestinationExists, $"The destination '{full}' is a folder; give a file path.", full);
        }
        if (FileKind.IsSpecial(full))
        {
            // Even with -Force: moving a file over /dev/null would replace the device itself.
            throw new JobQueueException(ErrorKind.DestinationExists, $"The destination '{full}' is a device, pipe or socket, not a file; give a file path.", full);
        }
        if (File.Exists(full) && !overwrite)
        {
            throw new JobQueueException(ErrorKind.DestinationExists, $"The file '{full}' already exists. Use -Force to replace it.", full);
        }
        // Write beside the destination, then move into place, so a failed backup never leaves half
        // a file. The empty file made first is owner-only, and VACUUM INTO keeps its mode: a backup
        // holds every job's config and log.
        var temp = full + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            try
            {
                PrivateFiles.CreateFolderOf(full);
                PrivateFiles.CreateNewFile(temp);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw NotWritable(full, ex.Message, ex);
            }
            try
            {
                Store.Backup(temp);
            }
            catch (JobQueueException ex) when (ex.Kind == ErrorKind.DatabaseNotWritable)
            {
                // The source is only read; what could not be written is the copy.
                throw NotWritable(full, ex.InnerException?.Message ?? ex.Message, ex);
            }
            // A store this process keeps open on the old file would go on showing the old queue, and
            // the old file's WAL and shared-memory files would be replayed onto the new one.
            JobStores.Close(full);
            try
            {
                foreach (var leftover in new[] { full + "-wal", full + "-shm" })
                {
                    if (File.Exists(leftover)) File.Delete(leftover);
                }
                File.Move(temp, full, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw NotWritable(full, ex.Message, ex);
            }
        }
        finally
        {
            try
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Nothing more to do: the error that brought us here is the one to report.
            }
        }
    }

    private static JobQueueException NotWritable(string destination, string reason, Exception inner) =>
        new(ErrorKind.DatabaseNotWritable, $"Cannot write the backup '{destination}': {reason}", destination, inner, "DestinationNotWritable");

    /// <summary>Text for an error message: control characters such as NUL shown as escapes.</summary>
    internal static string Printable(string text) =>
        string.Concat(Shorten(text).Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));

    public static JobQueueException NotFound(long jobId) =>
        new(ErrorKind.JobNotFound, $"No job with id {jobId} exists in this queue.", jobId);
}
