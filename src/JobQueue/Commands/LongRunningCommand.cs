namespace JobQueue.Commands;

/// <summary>
/// Base of cmdlets that wait: a cancellation token that Ctrl+C (StopProcessing) trips, so a wait
/// always ends promptly.
/// </summary>
public abstract class LongRunningCommand : JobQueuePipelineCommand, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    protected CancellationToken StopToken => _stopping.Token;

    /// <summary>Sleeps up to <paramref name="interval"/>; returns false when the command is being stopped.</summary>
    protected bool Pause(TimeSpan interval) => !_stopping.Token.WaitHandle.WaitOne(interval > LongestPause ? LongestPause : interval);

    // WaitOne takes at most int.MaxValue milliseconds; a longer -PollInterval waits that long (24.8 days).
    private static readonly TimeSpan LongestPause = TimeSpan.FromMilliseconds(int.MaxValue);

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }
}
