using JobQueue.Engine.Storage;

namespace JobQueue.Engine.Scheduling;

/// <summary>
/// The scheduler daemon: a pass, then a sleep until the earliest next run of any schedule (never
/// longer than <see cref="MaxInterval"/>, so maintenance and hand-edited schedules are seen), cut
/// short when the database changes (a schedule created, enabled or edited; a Queue schedule's
/// previous run ending). Everything, including the reports, happens on the calling thread.
/// </summary>
public sealed class SchedulerLoop
{
    public static readonly TimeSpan DefaultMaxInterval = TimeSpan.FromSeconds(60);

    /// <summary>The least time between two passes that a change (rather than a due schedule) caused; workers write often.</summary>
    public static readonly TimeSpan ChangeDebounce = TimeSpan.FromSeconds(1);

    // Waking a little after the due moment keeps a timer that fires early from making an empty pass.
    private static readonly TimeSpan Lateness = TimeSpan.FromMilliseconds(20);

    private readonly IJobStore _store;
    private readonly SchedulerPass _pass;
    private readonly IClock _clock;

    public SchedulerLoop(IJobStore store, SchedulerPass pass, IClock? clock = null, TimeSpan? maxInterval = null)
    {
        _store = store;
        _pass = pass;
        _clock = clock ?? SystemClock.Instance;
        MaxInterval = maxInterval is { } m && m > TimeSpan.Zero ? m : DefaultMaxInterval;
    }

    public TimeSpan MaxInterval { get; }

    /// <summary>Runs passes until <paramref name="stop"/> is cancelled; <paramref name="report"/> gets each pass's result.</summary>
    public void Run(CancellationToken stop, Action<SchedulerPassResult> report, Action<string>? trace = null)
    {
        using var changed = new AutoResetEvent(false);
        using var watch = _store.WatchForChanges(() =>
        {
            try
            {
                changed.Set();
            }
            catch (ObjectDisposedException)
            {
                // The loop has ended; a late file event has nothing to wake.
            }
        });
        trace?.Invoke(watch is null
            ? $"Not watching the database for changes; checking at least every {MaxInterval.TotalSeconds:0.#} s."
            : "Watching the database for schedule changes.");
        var handles = new[] { stop.WaitHandle, changed };
        while (!stop.IsCancellationRequested)
        {
            changed.Reset(); // changes made from here on (including this pass's own) wake the loop again
            var started = _clock.UtcNow;
            var result = _pass.Run(started);
            report(result);

            var now = _clock.UtcNow;
            var wakeAt = now + MaxInterval;
            if (_store.EarliestNextRun(now) is { } next && next + Lateness < wakeAt) wakeAt = next + Lateness;
            trace?.Invoke($"Next pass by {wakeAt.ToLocalTime():yyyy-MM-dd HH:mm:ss.fff} unless the database changes first.");
            while (true)
            {
                var wait = wakeAt - _clock.UtcNow;
                if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
                var signalled = WaitHandle.WaitAny(handles, wait);
                if (signalled == 0) return;
                if (signalled == WaitHandle.WaitTimeout) break;
                // A change: look again soon, but not more than once per debounce interval.
                var earliest = started + ChangeDebounce - _clock.UtcNow;
                if (earliest > TimeSpan.Zero && stop.WaitHandle.WaitOne(earliest)) return;
                break;
            }
        }
    }
}
