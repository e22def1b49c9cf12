namespace JobQueue.Engine;

/// <summary>Exponential backoff with jitter between the attempts of a failing job.</summary>
public sealed record RetryPolicy(TimeSpan BaseDelay, TimeSpan MaxDelay, double Jitter = 0.2)
{
    public static readonly RetryPolicy Default = new(TimeSpan.FromSeconds(10), TimeSpan.FromHours(1));

    /// <summary>The delay before retry number <paramref name="retry"/> (1 for the first retry).</summary>
    public TimeSpan DelayFor(int retry)
    {
        if (BaseDelay <= TimeSpan.Zero) return TimeSpan.Zero;
        var exponent = Math.Min(Math.Max(retry - 1, 0), 30);
        var seconds = Math.Min(BaseDelay.TotalSeconds * Math.Pow(2, exponent), MaxDelay.TotalSeconds);
        var jitter = 1 + ((Random.Shared.NextDouble() * 2) - 1) * Jitter;
        return TimeSpan.FromSeconds(Math.Max(0, seconds * jitter));
    }
}
