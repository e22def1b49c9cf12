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
