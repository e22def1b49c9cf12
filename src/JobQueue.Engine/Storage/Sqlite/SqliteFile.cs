using System.Text;
using Microsoft.Data.Sqlite;

namespace JobQueue.Engine.Storage.Sqlite;

/// <summary>Checks and prepares the file before SQLite touches it, so mistakes change nothing.</summary>
internal static class SqliteFile
{
    private static readonly byte[] Header = Encoding.ASCII.GetBytes("SQLite format 3\0");

    /// <summary>
    /// Makes the folder (owner-only on Unix) and an empty owner-only file when neither exists;
    /// refuses a file that is not an SQLite database.
    /// </summary>
    public static void EnsureCreatable(string path)
    {
        if (Directory.Exists(path))
        {
            throw new JobQueueException(ErrorKind.DatabaseNotWritable,
                $"The database path '{path}' is a folder. Give the path of a file, such as '{System.IO.Path.Combine(path, "jobs.db")}'.", path);
        }
        if (FileKind.IsSpecial(path))
        {
            throw new JobQueueException(ErrorKind.DatabaseNotWritable,
                $"The database path '{path}' is a device, pipe or socket, not a file. Give the path of a database file.", path);
        }
        if (File.Exists(path))
        {
            CheckHeader(path);
            return;
        }
        try
        {
            PrivateFiles.CreateFolderOf(path);
            RemoveOrphanedSidecars(path);
            PrivateFiles.CreateNewFile(path);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first; SQLite takes it from here.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new JobQueueException(ErrorKind.DatabaseNotWritable,
                $"Cannot create the database '{path}': {ex.Message}", path, ex);
        }
    }

    /// <summary>
    /// A -wal or -shm whose database was deleted: another process may still hold the deleted
    /// database open, and SQLite would make the new file share that process's -shm (its index of
    /// a different log), which fails with I/O errors or worse. Removed before the new file exists;
    /// the process holding them keeps its own copies until it notices the file is gone.
    /// </summary>
    private static void RemoveOrphanedSidecars(string path)
    {
        foreach (var sidecar in new[] { path + "-shm", path + "-wal" })
        {
            if (File.Exists(path)) return; // created meanwhile by another process: its files now
            if (File.Exists(sidecar)) File.Delete(sidecar);
        }
    }

    private static void CheckHeader(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            if (stream.Length == 0) return;
            var buffer = new byte[Header.Length];
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (read < Header.Length || !buffer.AsSpan().SequenceEqual(Header))
            {
                throw NotADatabase(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new JobQueueException(ErrorKind.DatabaseNotWritable, $"Cannot read the database '{path}': {ex.Message}", path, ex);
        }
    }

    public static JobQueueException NotADatabase(string path) => new(ErrorKind.NotAJobQueueDatabase,
        $"The file '{path}' is not a JobQueue database (it is not an SQLite file). Choose another path; the file was not changed.", path);
}

internal static class SqliteErrors
{
    public static JobQueueException Translate(SqliteException ex, string path) => ex.SqliteErrorCode switch
    {
        26 => SqliteFile.NotADatabase(path),
        8 => new JobQueueException(ErrorKind.DatabaseNotWritable, $"The database '{path}' is read-only: {ex.Message}", path, ex),
        14 => new JobQueueException(ErrorKind.DatabaseNotWritable, $"Cannot open the database '{path}': {ex.Message}{FolderProblem(path)}", path, ex),
        13 => DiskFull(path, ex),
        // Opening a WAL database writes its -shm and -wal files; on a full disk that fails as an
        // I/O error rather than SQLITE_FULL.
        10 when IsDiskFull(path) => DiskFull(path, ex),
        10 => new JobQueueException(ErrorKind.DatabaseUnavailable, $"I/O error on the database '{path}': {ex.Message}", path, ex),
        5 or 6 => new JobQueueException(ErrorKind.DatabaseUnavailable,
            $"The database '{path}' stayed locked by another process for {SqliteJobStore.BusyTimeoutMs / 1000} s; nothing was changed. Try again.", path, ex),
        11 => new JobQueueException(ErrorKind.CorruptData, $"The database '{path}' is damaged: {ex.Message}", path, ex),
        _ => new JobQueueException(ErrorKind.DatabaseUnavailable, $"Database error on '{path}': {ex.Message}", path, ex),
    };

    private static JobQueueException DiskFull(string path, SqliteException ex) =>
        new(ErrorKind.DatabaseNotWritable, $"The disk holding '{path}' is full; nothing was written. Free some space and try again.", path, ex);

    private static bool IsDiskFull(string path)
    {
        try
        {
            var folder = System.IO.Path.GetDirectoryName(path);
            // Less than a few pages free: SQLite cannot grow its -shm (32 KiB) or -wal.
            return !string.IsNullOrEmpty(folder) && new DriveInfo(folder).AvailableFreeSpace < 64 * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// Why SQLite could not open its files, when the folder says so (read-only file system, no
    /// permission). Probes with a file of its own: opening and closing the database file itself
    /// would drop this process's SQLite locks on it.
    /// </summary>
    private static string FolderProblem(string path)
    {
        var folder = System.IO.Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(folder) || !Directory.Exists(folder)) return "";
        try
        {
            var probe = System.IO.Path.Combine(folder, ".jobqueue-probe-" + Guid.NewGuid().ToString("N")[..8]);
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
            return "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $" (its folder cannot be written: {e.Message})";
        }
    }
}
