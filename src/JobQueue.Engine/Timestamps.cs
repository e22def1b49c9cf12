using System.Globalization;

namespace JobQueue.Engine;

/// <summary>ISO-8601 UTC text with milliseconds, so stored times sort and compare as text.</summary>
public static class Timestamps
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string ToText(DateTimeOffset value) =>
        value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static string ToText(DateTime value) =>
        (value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(value, DateTimeKind.Utc) : value.ToUniversalTime())
            .ToString(Format, CultureInfo.InvariantCulture);

    public static DateTime ParseUtc(string text) =>
        DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

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
