using Npgsql;

namespace JobQueue.Engine.Storage.Postgres;

/// <summary>
/// LISTENs on a channel on a connection of its own (outside the pool, so no pooled connection is
/// left listening) and calls back on each notification. A lost connection is opened again after
/// a growing pause, and the callback runs once then, since notifications sent meanwhile are lost.
/// Keepalives make a dead server show up while the connection waits.
/// </summary>
internal sealed class PostgresChangeListener : IDisposable
{
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(30);

    private readonly string _connectionString;
    private readonly string _channel;
    private readonly Action _changed;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public PostgresChangeListener(string connectionString, string channel, Action changed)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
        if (settings.KeepAlive == 0) settings.KeepAlive = 30;
        _connectionString = settings.ConnectionString;
        _channel = channel;
        _changed = changed;
        // The first LISTEN is in place before this returns: a change the caller makes or waits
        // for right after (its first pass) is never missed while a background connection starts.
        NpgsqlConnection? first = null;
        try
        {
            first = Open(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            // The loop tries again, and reports a change once it is listening.
        }
        _loop = Task.Run(() => Listen(first));
    }

    private async Task<NpgsqlConnection> Open(CancellationToken cancel)
    {
        var conn = new NpgsqlConnection(_connectionString);
        try
        {
            conn.Notification += (_, _) => Notify();
            await conn.OpenAsync(cancel).ConfigureAwait(false);
            await using (var cmd = new NpgsqlCommand($"LISTEN {_channel}", conn))
            {
                await cmd.ExecuteNonQueryAsync(cancel).ConfigureAwait(false);
            }
            return conn;
        }
        catch
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static bool IsConnectionFailure(Exception ex) => ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException;

    private async Task Listen(NpgsqlConnection? first)
    {
        var pause = TimeSpan.FromSeconds(1);
        var missed = first is null;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await using var conn = first ?? await Open(_stop.Token).ConfigureAwait(false);
                first = null;
                if (missed) Notify();
                missed = false;
                pause = TimeSpan.FromSeconds(1);
                while (true) await conn.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (IsConnectionFailure(ex))
            {
                // The server is away: the caller's own bounded sleep covers the gap.
                first = null;
                missed = true;
                try
                {
                    await Task.Delay(pause, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                pause = pause * 2 > MaxPause ? MaxPause : pause * 2;
            }
        }
        // Stopped before the first connection was used.
        if (first is not null) await first.DisposeAsync().ConfigureAwait(false);
    }

    private void Notify()
    {
        try
        {
            _changed();
        }
        catch (Exception)
        {
            // A callback's failure must not end the listening; the caller checks on its own too.
        }
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Ended with an error after the stop: nothing left to do.
        }
        _stop.Dispose();
    }
}
