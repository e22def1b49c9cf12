using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using Microsoft.Win32.SafeHandles;

namespace JobQueue.Engine.Storage.Sqlite;

/// <summary>What became of the file a store has open since it was opened.</summary>
public enum StoreFileState
{
    /// <summary>The path still names the open file, and it still starts as an SQLite file.</summary>
    Unchanged,

    /// <summary>The file was deleted, renamed, or another file was moved over its path.</summary>
    Moved,

    /// <summary>The same file was overwritten in place (Set-Content, Copy-Item -Force) with something that is not SQLite.</summary>
    Overwritten,
}

public sealed partial class SqliteJobStore
{
    private const int SqliteFcntlHasMoved = 20;
    private const int SqliteDbConfigNoCheckpointOnClose = 1006;
    private static readonly byte[] SqliteMagic = "SQLite format 3\0"u8.ToArray();

    // Kept open for the life of the store and closed only after the connection: closing any other
    // descriptor of the database file would drop this process's SQLite (POSIX) locks on it.
    private SafeFileHandle? _headerHandle;

    private void OpenHeaderHandle()
    {
        try
        {
            _headerHandle = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _headerHandle = null; // the check falls back to the path and SQLite's own test
        }
    }

    /// <summary>
    /// Whether this store may go on writing: a connection to a deleted or replaced file would
    /// otherwise keep committing into a file nobody else sees.
    /// </summary>
    public StoreFileState CheckFile()
    {
        lock (_gate)
        {
            if (_disposed || !File.Exists(Path) || HasMoved()) return StoreFileState.Moved;
            if (_headerHandle is null) return StoreFileState.Unchanged;
            Span<byte> header = stackalloc byte[16];
            int read;
            try
            {
                read = RandomAccess.Read(_headerHandle, header, 0);
            }
            catch (IOException)
            {
                return StoreFileState.Overwritten;
            }
            return read == header.Length && header.SequenceEqual(SqliteMagic) ? StoreFileState.Unchanged : StoreFileState.Overwritten;
        }
    }

    /// <summary>
    /// Closes a store whose file went away. A moved or deleted file gets its write-ahead log
    /// checkpointed into it (wherever it now is) and the log emptied, so nothing of it can be
    /// paired with a new file at the path. A file overwritten in place must not receive that
    /// checkpoint (it would write pages into the new content): it is closed without one, and its
    /// now meaningless -wal and -shm are removed.
    /// </summary>
    public void CloseAfter(StoreFileState state)
    {
        if (state != StoreFileState.Overwritten)
        {
            // SQLite does not checkpoint a moved file on close, and leaves its -wal beside the
            // path, where the next file there would replay it (a backup moved over the database
            // would come back mixed with the old frames; jobs in a renamed file would be lost).
            // So: move the frames into the old file now, and empty the -wal.
            lock (_gate)
            {
                if (!_disposed)
                {
                    try
                    {
                        Execute("PRAGMA wal_checkpoint(TRUNCATE)");
                    }
                    catch (SqliteException)
                    {
                        // Another process is still reading the old file; the frames stay with it.
                    }
                }
            }
            Dispose();
            return;
        }
        lock (_gate)
        {
            if (!_disposed && _connection.Handle is { } handle)
            {
                SQLitePCL.raw.sqlite3_db_config(handle, SqliteDbConfigNoCheckpointOnClose, 1, out _);
            }
        }
        Dispose();
        foreach (var sidecar in new[] { Path + "-wal", Path + "-shm" })
        {
            try
            {
                File.Delete(sidecar);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Left behind: SQLite itself discards a -wal found beside an empty file, and a
                // file that is not SQLite is refused before SQLite opens it.
            }
        }
    }

    private bool HasMoved()
    {
        if (OperatingSystem.IsWindows()) return false; // an open SQLite file cannot be deleted or replaced there
        var moved = 0;
        var rc = sqlite3_file_control(_connection.Handle!.DangerousGetHandle(), "main", SqliteFcntlHasMoved, ref moved);
        return rc == 0 && moved != 0;
    }

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_file_control(IntPtr db, [MarshalAs(UnmanagedType.LPUTF8Str)] string dbName, int op, ref int arg);
}
