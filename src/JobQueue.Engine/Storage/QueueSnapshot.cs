using System.Globalization;

namespace JobQueue.Engine.Storage;

/// <summary>
/// One consistent read of a queue, table by table. Values come in each driver's own types (long,
/// double, string, bool, DateTime in UTC); the importing driver converts them to its columns, so
/// any driver copies to any other and columns added by later migrations travel without code here.
/// </summary>
public interface IQueueSnapshot : IDisposable
{
    /// <summary>The display name of the database read.</summary>
    string Database { get; }

    IReadOnlyList<string> Columns(string table);

    /// <summary>The table's rows in primary-key order, values in the order of <see cref="Columns"/>; read lazily.</summary>
    IEnumerable<object?[]> Rows(string table);
}

public static class QueueTables
{
    /// <summary>
    /// What a copy carries, parents first. Workers are live registrations of one database's
    /// processes and settings are per backend, so neither is copied.
    /// </summary>
    public static readonly IReadOnlyList<(string Table, string Key)> Copied = new[]
    {
        ("schedules", "schedule_id"),
        ("jobs", "job_id"),
        ("job_logs", "log_id"),
    };

    public static JobQueueException NotEmpty(string database, long jobs, long schedules) => new(ErrorKind.DestinationExists,
        $"The destination '{database}' already holds {jobs} jobs and {schedules} schedules. Use -Force to replace them; nothing was changed.",
        database, code: "DestinationNotEmpty");
}

/// <summary>Conversions from any driver's values to the types of the importing driver's columns.</summary>
public static class CopyValues
{
    public static DateTime ToUtc(object value) => value switch
    {
        DateTime d => d.Kind switch { DateTimeKind.Utc => d, DateTimeKind.Local => d.ToUniversalTime(), _ => DateTime.SpecifyKind(d, DateTimeKind.Utc) },
        DateTimeOffset o => o.UtcDateTime,
        string s => DateTime.SpecifyKind(Timestamps.ParseUtc(s), DateTimeKind.Utc),
        _ => throw new FormatException($"'{value}' is not a time."),
    };

    public static bool ToBool(object value) => value switch
    {
        bool b => b,
        long l => l != 0,
        int i => i != 0,
        string s => s is "1" || s.Equals("true", StringComparison.OrdinalIgnoreCase),
        _ => Convert.ToInt64(value, CultureInfo.InvariantCulture) != 0,
    };

    public static long ToLong(object value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);

    public static double ToDouble(object value) => Convert.ToDouble(value, CultureInfo.InvariantCulture);

    public static string ToText(object value) => value switch
    {
        string s => s,
        DateTime d => Timestamps.ToText(d),
        DateTimeOffset o => Timestamps.ToText(o),
        bool b => b ? "1" : "0",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A value as SQLite stores it: times as ISO-8601 UTC text, flags as 0/1.</summary>
    public static object ToSqlite(object? value) => value switch
    {
        null or DBNull => DBNull.Value,
        DateTime or DateTimeOffset => ToText(value),
        bool b => b ? 1L : 0L,
        _ => value,
    };

    /// <summary>Enumerates <paramref name="source"/>, turning a driver's failure into a user error.</summary>
    public static IEnumerable<T> Guarded<T>(IEnumerable<T> source, Func<Exception, JobQueueException?> translate)
    {
        using var e = source.GetEnumerator();
        while (true)
        {
            bool more;
            try
            {
                more = e.MoveNext();
            }
            catch (Exception ex) when (translate(ex) is { } error)
            {
                throw error;
            }
            if (!more) yield break;
            yield return e.Current;
        }
    }
}

/// <summary>Copies one queue into another (Copy-JobQueue): a snapshot of the source, imported in one transaction.</summary>
public static class QueueCopier
{
    public static QueueCopyResult Copy(IJobStore source, IJobStore destination, bool replace)
    {
        if (ReferenceEquals(source, destination) || string.Equals(source.Database, destination.Database, StringComparison.Ordinal))
        {
            throw new JobQueueException(ErrorKind.InvalidArgument,
                $"The source and the destination are the same queue ('{source.Database}'); choose another destination.", destination.Database, code: "SameDatabase");
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var snapshot = source.OpenSnapshot();
        var counts = destination.ImportSnapshot(snapshot, replace);
        return new QueueCopyResult
        {
            Source = source.Database,
            SourceBackend = source.Backend,
            Destination = destination.Database,
            DestinationBackend = destination.Backend,
            Jobs = counts.GetValueOrDefault("jobs"),
            Logs = counts.GetValueOrDefault("job_logs"),
            Schedules = counts.GetValueOrDefault("schedules"),
            Elapsed = clock.Elapsed,
        };
    }
}
