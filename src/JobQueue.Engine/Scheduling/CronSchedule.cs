using Cronos;

namespace JobQueue.Engine.Scheduling;

/// <summary>
/// A parsed cron expression read in a time zone. Five fields (minute hour day-of-month month
/// day-of-week) or a macro (@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually,
/// @every_minute). Occurrences come back in UTC.
/// </summary>
/// <remarks>
/// Daylight saving time follows Cronos (as Vixie cron does): an occurrence in the hour that is
/// skipped in spring runs once, at the moment the clocks jump (02:30 becomes 03:00); an
/// occurrence in the hour that repeats in autumn runs once, in the first pass of that hour.
/// Interval expressions (a '*', range or step in the minute or hour field, e.g. '0 * * * *')
/// keep their rhythm in real time instead: an hourly schedule runs 23 times on the spring day and
/// 25 times on the autumn day.
/// </remarks>
public sealed class CronSchedule
{
    private readonly CronExpression _cron;

    private CronSchedule(string expression, CronExpression cron, TimeZoneInfo zone, string zoneId)
    {
        Expression = expression;
        _cron = cron;
        Zone = zone;
        ZoneId = zoneId;
    }

    public string Expression { get; }
    public TimeZoneInfo Zone { get; }

    /// <summary>The zone id as stored (IANA where one exists).</summary>
    public string ZoneId { get; }

    /// <summary>Parses and checks an expression and a zone; throws InvalidCron or InvalidTimeZone.</summary>
    public static CronSchedule Parse(string? expression, string? timeZone)
    {
        var text = Normalize(expression);
        var cron = ParseExpression(text);
        var (zone, zoneId) = TimeZones.Resolve(timeZone);
        return new CronSchedule(text, cron, zone, zoneId);
    }

    /// <summary>Collapses runs of blanks, so '0  2 * * *' is stored as '0 2 * * *'.</summary>
    public static string Normalize(string? expression) =>
        string.Join(' ', (expression ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static CronExpression ParseExpression(string text)
    {
        if (text.Length == 0)
        {
            throw Invalid(text, "it is empty");
        }
        if (string.Equals(text, "@every_second", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(text, "schedules run at most once a minute");
        }
        var fields = text.Split(' ').Length;
        if (!text.StartsWith('@') && fields != 5)
        {
            throw Invalid(text, $"it has {fields} field{(fields == 1 ? "" : "s")}, not 5");
        }
        try
        {
            return CronExpression.Parse(text, CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            throw Invalid(text, ex.Message.TrimEnd('.'), ex);
        }
        catch (MissingSeedException ex)
        {
            throw Invalid(text, "'H' (hashed values) is not supported", ex);
        }
    }

    private static JobQueueException Invalid(string text, string why, Exception? inner = null) => new(ErrorKind.InvalidCron,
        $"'{JobClient.Shorten(text)}' is not a valid cron expression: {why}. Use five fields, minute hour day-of-month month day-of-week, " +
        "such as '0 2 * * *' (daily at 02:00) or '*/15 * * * *', or a macro: @hourly, @daily, @weekly, @monthly, @yearly.",
        text, inner);

    /// <summary>The first occurrence at or after <paramref name="from"/>, or null when there is none (e.g. '0 0 30 2 *').</summary>
    /// <remarks>
    /// Searched from one tick earlier, exclusively: Cronos' inclusive search does not return an
    /// occurrence that a spring-forward jump moved onto <paramref name="from"/> (02:30 becoming
    /// 03:00), which would make a pass at that very moment skip it.
    /// </remarks>
    public DateTimeOffset? NextOnOrAfter(DateTimeOffset from) =>
        from.UtcTicks == DateTime.MinValue.Ticks
            ? Next(DateTime.MinValue, inclusive: true)
            : Next(from.UtcDateTime.AddTicks(-1), inclusive: false);

    /// <summary>The first occurrence strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset after) => Next(after.UtcDateTime, inclusive: false);

    /// <summary>
    /// Cronos' search, with the end of the calendar as "no next occurrence": near 9999-12-31 it
    /// throws instead of returning null (seen with -Now [datetime]::MaxValue).
    /// </summary>
    private DateTimeOffset? Next(DateTime fromUtc, bool inclusive)
    {
        try
        {
            return ToUtc(_cron.GetNextOccurrence(DateTime.SpecifyKind(fromUtc, DateTimeKind.Utc), Zone, inclusive));
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The occurrences from <paramref name="from"/> to <paramref name="to"/>, both inclusive, oldest first.</summary>
    /// <remarks>Stepped with <see cref="NextOnOrAfter"/>, for the same reason.</remarks>
    public IEnumerable<DateTimeOffset> Between(DateTimeOffset from, DateTimeOffset to)
    {
        for (var next = NextOnOrAfter(from); next is { } occurrence && occurrence <= to; next = NextAfter(occurrence))
        {
            yield return occurrence;
        }
    }

    private static DateTimeOffset? ToUtc(DateTime? utc) => utc is { } u ? new DateTimeOffset(u, TimeSpan.Zero) : null;

    public override string ToString() => ZoneId == TimeZones.Default ? Expression : $"{Expression} ({ZoneId})";
}
