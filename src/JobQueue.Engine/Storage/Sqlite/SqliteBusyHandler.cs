using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace JobQueue.Engine.Storage.Sqlite;

/// <summary>
/// What a connection does when another process holds the write lock. SQLite's built-in busy
/// timeout sleeps in growing steps of up to 100 ms, so a waiting worker often sleeps long after
/// the lock was freed, and many workers on one file lose most of their throughput. This handler
/// retries about every millisecond until <see cref="SqliteJobStore.BusyTimeoutMs"/> has passed,
/// then gives up with SQLITE_BUSY (reported to the user as "stayed locked").
/// </summary>
internal static class SqliteBusyHandler
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int BusyCallback(IntPtr state, int count);

    // Kept in a static field: native code holds the pointer for the life of the connection.
    private static readonly BusyCallback Callback = OnBusy;

    private const int MaxSleepMs = 8;

    [ThreadStatic]
    private static long _waitStarted;

    public static void Install(SqliteConnection connection)
    {
        var rc = sqlite3_busy_handler(connection.Handle!.DangerousGetHandle(), Callback, IntPtr.Zero);
        if (rc != 0)
        {
            // Fall back to SQLite's own handler rather than running with none.
            using var cmd = connection.CreateCommand();
            cmd.CommandText = $"PRAGMA busy_timeout = {SqliteJobStore.BusyTimeoutMs}";
            cmd.ExecuteNonQuery();
        }
    }

    private static int OnBusy(IntPtr state, int count)
    {
        // count is 0 on the first call of each wait.
        if (count == 0) _waitStarted = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(_waitStarted).TotalMilliseconds >= SqliteJobStore.BusyTimeoutMs) return 0;
        // Short, jittered, capped backoff: waiters neither sleep long after the lock is free nor
        // wake all together and fight over it.
        var cap = Math.Min(1 << Math.Min(count / 2, 3), MaxSleepMs);
        Thread.Sleep(Random.Shared.Next(1, cap + 1));
        return 1;
    }

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_busy_handler(IntPtr db, BusyCallback callback, IntPtr state);
}
