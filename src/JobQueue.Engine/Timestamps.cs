using System.Globalization;

namespace JobQueue.Engine;

/// <summary>ISO-8601 UTC text with milliseconds, so stored times sort and compare as text.</summary>
public static class Timestamps
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string ToText(DateTimeOffset value) => Write(value.UtcDateTime);

    public static string ToText(DateTime value) =>
        Write(value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(value, DateTimeKind.Utc) : value.ToUniversalTime());

    /// <summary>
    /// <see cref="Format"/> written by hand: every claim, finish and read goes through here, and the
    /// general formatter and parser cost ten times as much.
    /// </summary>
    private static string Write(DateTime utc) => string.Create(24, utc, static (span, t) =>
    {
        Digits(span[..4], t.Year);
        span[4] = '-';
        Digits(span.Slice(5, 2), t.Month);
        span[7] = '-';
        Digits(span.Slice(8, 2), t.Day);
        span[10] = 'T';
        Digits(span.Slice(11, 2), t.Hour);
        span[13] = ':';
        Digits(span.Slice(14, 2), t.Minute);
        span[16] = ':';
        Digits(span.Slice(17, 2), t.Second);
        span[19] = '.';
        Digits(span.Slice(20, 3), t.Millisecond);
        span[23] = 'Z';
    });

    private static void Digits(Span<char> span, int value)
    {
        for (var i = span.Length - 1; i >= 0; i--)
        {
            span[i] = (char)('0' + value % 10);
            value /= 10;
        }
    }

    public static DateTime ParseUtc(string text) =>
        TryParseStored(text, out var utc)
            ? utc
            : DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    /// <summary>The exact form this module stores; anything else (times written by hand in SQL) takes the general parser.</summary>
    private static bool TryParseStored(string text, out DateTime utc)
    {
        utc = default;
        if (text.Length != 24 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':'
            || text[16] != ':' || text[19] != '.' || text[23] != 'Z')
        {
            return false;
        }
        if (!Number(text, 0, 4, out var year) || !Number(text, 5, 2, out var month) || !Number(text, 8, 2, out var day)
            || !Number(text, 11, 2, out var hour) || !Number(text, 14, 2, out var minute) || !Number(text, 17, 2, out var second)
            || !Number(text, 20, 3, out var millisecond))
        {
            return false;
        }
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }
        utc = new DateTime(year, month, day, hour, minute, second, millisecond, DateTimeKind.Utc);
        return true;
    }

    private static bool Number(string text, int start, int length, out int value)
    {
        value = 0;
        for (var i = start; i < start + length; i++)
        {
            var digit = text[i] - '0';
            if ((uint)digit > 9) return false;
            value = value * 10 + digit;
        }
        return true;
    }

    /// <summary>
    /// <paramref name="time"/> plus <paramref name="delta"/>, held at the ends of the calendar
    /// instead of overflowing, so TimeSpan.MaxValue can stand for "never" (a lease, a retry delay).
    /// </summary>
    public static DateTimeOffset AddSaturating(DateTimeOffset time, TimeSpan delta)
    {
        var ticks = time.UtcTicks;
        var max = DateTimeOffset.MaxValue.UtcTicks;
        long result;
        if (delta.Ticks > 0)
        {
            result = delta.Ticks > max - ticks ? max : ticks + delta.Ticks;
        }
        else
        {
            result = Math.Max(ticks + delta.Ticks, 0); // ticks >= 0, so this cannot overflow
        }
        return new DateTimeOffset(result, TimeSpan.Zero);
    }

    /// <summary>Stored UTC text to a local DateTime, the way PowerShell shows file times.</summary>
    public static DateTime? ToLocal(string? text) => text is null ? null : ParseUtc(text).ToLocalTime();
}

/// <summary>The engine's clock; tests and backfills substitute a fixed one.</summary>
public interface IClock
{
    DateTimeOffset UtcNow { get; }
}

public sealed class SystemClock : IClock
{
    public static readonly SystemClock Instance = new();
    public DateTimeOffset UtcNow => DateTimeOffset.UtcNow;
}
