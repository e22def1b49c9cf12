using JobQueue.Engine;
using JobQueue.Engine.Storage;
using JobQueue.Engine.Storage.Postgres;
using JobQueue.Engine.Storage.Sqlite;

namespace JobQueue.Bench;

/// <summary>The floor's operations: the leanest hand-written queue on a backend.</summary>
internal interface IFloor : IDisposable
{
    void Insert(string config);
    void InsertMany(int count, string config);
    long? Claim(string worker);
    void Complete(long id);
}

/// <summary>
/// One backend under test: how to make a fresh database, open the engine and the floor on it
/// with a durability setting, label the rows, and throw the database away.
/// </summary>
internal abstract class Backend
{
    public abstract string FloorLevel { get; }
    public abstract string EngineLevel { get; }
    public abstract string DurabilityLabel(Durability durability);
    /// <summary>A new, empty database: a file path or a connection string.</summary>
    public abstract string Fresh(string name);
    public abstract IFloor OpenFloor(string target, Durability durability, bool create);
    public abstract IJobStore OpenEngine(string target, Durability durability);
    public abstract void Cleanup(string target);
    public abstract void MixStatuses(string target);
    public abstract double SizeMiB(string target);
}

internal sealed class SqliteBackend(string workRoot) : Backend
{
    public override string FloorLevel => "raw-sqlite";
    public override string EngineLevel => "engine";
    public override string DurabilityLabel(Durability durability) => "synchronous=" + Synchronous(durability);
    private static string Synchronous(Durability durability) => durability == Durability.Full ? "FULL" : "NORMAL";

    public override string Fresh(string name)
    {
        var path = Path.Combine(workRoot, name + "-" + Guid.NewGuid().ToString("N")[..8] + ".db");
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(path + suffix);
        return path;
    }

    public override IFloor OpenFloor(string target, Durability durability, bool create) => new RawSqlite(target, Synchronous(durability), create);

    public override IJobStore OpenEngine(string target, Durability durability)
    {
        var store = new SqliteJobStore(target);
        store.SetDurability(durability);
        return store;
    }

    public override void Cleanup(string target)
    {
        JobStores.Close(target);
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try { File.Delete(target + suffix); } catch (IOException) { }
        }
    }

    public override void MixStatuses(string target) => RawSqlite.MixStatuses(target);
    public override double SizeMiB(string target) => new FileInfo(target).Length / 1024.0 / 1024.0;
}

/// <summary>A PostgreSQL server given by an admin connection string: a database per workload.</summary>
internal sealed class PostgresBackend(string adminConnectionString) : Backend
{
    public override string FloorLevel => "raw-postgres";
    public override string EngineLevel => "engine-postgres";
    public override string DurabilityLabel(Durability durability) => "synchronous_commit=" + (durability == Durability.Full ? "on" : "off");
    public override string Fresh(string name) => RawPostgres.CreateDatabase(adminConnectionString, "bench_" + name.Replace('-', '_'));
    public override IFloor OpenFloor(string target, Durability durability, bool create) => new RawPostgres(target, durability == Durability.Full, create);

    public override IJobStore OpenEngine(string target, Durability durability)
    {
        var store = new PostgresJobStore(target);
        store.SetDurability(durability);
        return store;
    }

    public override void Cleanup(string target) => RawPostgres.DropDatabase(adminConnectionString, target);
    public override void MixStatuses(string target) => RawPostgres.MixStatuses(target);
    public override double SizeMiB(string target) => RawPostgres.DatabaseSize(target) / 1024.0 / 1024.0;
}
