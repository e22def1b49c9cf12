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
        _loop = Task.Run(Listen);
    }

    private async Task Listen()
    {
        var pause = TimeSpan.FromSeconds(1);
        var missed = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await using var conn = new NpgsqlConnection(_connectionString);
                conn.Notification += (_, _) => Notify();
                await conn.OpenAsync(_stop.Token).ConfigureAwait(false);
                await using (var cmd = new NpgsqlCommand($"LISTEN {_channel}", conn))
                {
                    await cmd.ExecuteNonQueryAsync(_stop.Token).ConfigureAwait(false);
                }
                if (missed) Notify();
                pause = TimeSpan.FromSeconds(1);
                while (true) await conn.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                // The server is away: the caller's own bounded sleep covers the gap.
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
