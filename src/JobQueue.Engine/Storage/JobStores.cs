using System.Collections.Concurrent;
using JobQueue.Engine.Storage.Postgres;
using JobQueue.Engine.Storage.Sqlite;

namespace JobQueue.Engine.Storage;

/// <summary>
/// Opens stores by the database string a user gives, and keeps one open store per database for
/// the life of the process, so a loop of cmdlet calls reuses one connection (SQLite) or one
/// connection pool (PostgreSQL) and its prepared statements. A PostgreSQL store is also found by
/// its masked display name (a job's Database property), so piped objects reach the queue they
/// came from without the password ever being shown.
/// </summary>
public static class JobStores
{
    private static readonly ConcurrentDictionary<string, IJobStore> Open = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, string> ByDisplayName = new(StringComparer.Ordinal);
    private static readonly object OpenGate = new();

    /// <summary>A postgres:// or postgresql:// URI, or a connection string naming a Host (or Server).</summary>
    public static bool IsPostgres(string database) => PostgresConnectionString.IsPostgres(database);

    /// <summary>The store for an already resolved database (a full path or a connection string).</summary>
    public static IJobStore Get(string database)
    {
        if (!Open.ContainsKey(database) && ByDisplayName.TryGetValue(database, out var connectionString))
        {
            database = connectionString;
        }
        if (Open.TryGetValue(database, out var store) && IsStillThere(store))
        {
            return store;
        }
        lock (OpenGate)
        {
            if (Open.TryGetValue(database, out store))
            {
                var state = FileState(store);
                if (state == StoreFileState.Unchanged) return store;
                Open.TryRemove(database, out _);
                if (store is SqliteJobStore sqlite)
                {
                    sqlite.CloseAfter(state);
                }
                else
                {
                    store.Dispose();
                }
            }
            store = Create(database);
            Open[database] = store;
            if (store.Database != database) ByDisplayName[store.Database] = database;
            return store;
        }
    }

    /// <summary>How a database is shown to users (passwords masked), without opening it.</summary>
    public static string DisplayName(string database) =>
        IsPostgres(database) ? PostgresConnectionString.MaskSecrets(database) : database;

    /// <summary>Closes the cached store of a database, e.g. before its file is replaced.</summary>
    public static void Close(string database)
    {
        if (ByDisplayName.TryGetValue(database, out var connectionString)) database = connectionString;
        if (Open.TryRemove(database, out var store))
        {
            ByDisplayName.TryRemove(store.Database, out _);
            store.Dispose();
        }
    }

    public static void CloseAll()
    {
        foreach (var key in Open.Keys.ToList()) Close(key);
    }

    private static IJobStore Create(string database)
    {
        return IsPostgres(database) ? new PostgresJobStore(database) : new SqliteJobStore(database);
    }

    // A file deleted or replaced under a cached connection must not swallow new jobs.
    private static bool IsStillThere(IJobStore store) => FileState(store) == StoreFileState.Unchanged;

    private static StoreFileState FileState(IJobStore store) =>
        store is SqliteJobStore sqlite ? sqlite.CheckFile() : StoreFileState.Unchanged;
}

/// <summary>Where the queue lives when the user names no database (SPEC section 1).</summary>
public static class DatabaseLocator
{
    public const string EnvironmentVariable = "JOBQUEUE_DATABASE";

    public static string DefaultDatabase()
    {
        var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(fromEnv) ? DefaultFile() : fromEnv;
    }

    public static string DefaultFile()
    {
        string root;
        if (OperatingSystem.IsWindows())
        {
            root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        }
        else if (OperatingSystem.IsMacOS())
        {
            root = System.IO.Path.Combine(Home(), "Library", "Application Support");
        }
        else
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            root = string.IsNullOrWhiteSpace(xdg) ? System.IO.Path.Combine(Home(), ".local", "share") : xdg;
        }
        return System.IO.Path.Combine(root, "JobQueue", "jobs.db");
    }

    private static string Home() =>
        Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home
            ? home
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
}
