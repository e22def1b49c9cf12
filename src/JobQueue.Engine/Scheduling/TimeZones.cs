namespace JobQueue.Engine.Scheduling;

/// <summary>
/// Finds the zone a schedule's cron is read in. IANA ids ("Europe/Berlin") and Windows ids
/// ("W. Europe Standard Time") both work on every platform; a Windows id is kept as its IANA
/// equivalent when there is one, so a database moved between machines means the same thing.
/// </summary>
public static class TimeZones
{
    public const string Default = "UTC";

    /// <summary>The zone and the id to store for it; throws InvalidTimeZone for an unknown id.</summary>
    public static (TimeZoneInfo Zone, string Id) Resolve(string? id)
    {
        var text = id?.Trim();
        if (string.IsNullOrEmpty(text)) text = Default;
        if (TryFind(text, out var zone))
        {
            return (zone, CanonicalId(text, zone));
        }
        // Linux and macOS look zones up in a case-sensitive folder; users type "europe/berlin" too.
        var match = TimeZoneInfo.GetSystemTimeZones().FirstOrDefault(z => string.Equals(z.Id, text, StringComparison.OrdinalIgnoreCase));
        if (match is not null)
        {
            return (match, CanonicalId(match.Id, match));
        }
        throw new JobQueueException(ErrorKind.InvalidTimeZone,
            $"'{JobClient.Shorten(text)}' is not a time zone this system knows. Use an IANA id such as 'Europe/Berlin' or 'America/New_York', a Windows id such as 'W. Europe Standard Time', or 'UTC'.",
            text);
    }

    /// <summary>The zone of a stored id; an id that stopped resolving (the database moved) falls back to an error the pass reports.</summary>
    public static TimeZoneInfo Find(string id) => Resolve(id).Zone;

    private static bool TryFind(string id, out TimeZoneInfo zone)
    {
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            zone = TimeZoneInfo.Utc;
            return false;
        }
    }

    private static string CanonicalId(string given, TimeZoneInfo zone)
    {
        if (string.Equals(given, "UTC", StringComparison.OrdinalIgnoreCase)) return "UTC";
        if (!zone.HasIanaId && TimeZoneInfo.TryConvertWindowsIdToIanaId(given, out var iana)) return iana;
        return zone.HasIanaId ? zone.Id : given;
    }

    /// <summary>Ids for tab completion: IANA ids on Linux and macOS, Windows ids on Windows, plus UTC.</summary>
    public static IEnumerable<string> KnownIds() =>
        TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id).Prepend(Default).Distinct(StringComparer.OrdinalIgnoreCase);
}
