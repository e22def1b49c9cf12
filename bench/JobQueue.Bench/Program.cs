using System.Collections.Concurrent;
using System.Diagnostics;
using JobQueue.Bench;
using JobQueue.Engine;
using JobQueue.Engine.Storage;
using JobQueue.Engine.Storage.Sqlite;

// Engine-level benchmarks W1, W2, W3 and W6 (BENCHMARKS.md), each beside the raw-SQLite floor
// measured in the same run on the same kind of file. Output: TSV rows on stdout.
var quick = args.Contains("--quick");
var only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
var workRoot = args.SkipWhile(a => a != "--work").Skip(1).FirstOrDefault() ?? Path.Combine(Path.GetTempPath(), "jobqueue-bench");
Directory.CreateDirectory(workRoot);
const string Config = "{\"lr\":5e-5,\"epochs\":10}";
const int Warmup = 2_000;
var rows = new List<Row>();

void Emit(Row row)
{
    rows.Add(row);
    Console.WriteLine(row.ToTsv());
    Console.Out.Flush();
}

string FreshFile(string name)
{
    var path = Path.Combine(workRoot, name + "-" + Guid.NewGuid().ToString("N")[..8] + ".db");
    foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(path + suffix);
    return path;
}

void Cleanup(string path)
{
    JobStores.Close(path);
    foreach (var suffix in new[] { "", "-wal", "-shm" })
    {
        try { File.Delete(path + suffix); } catch (IOException) { }
    }
}

SqliteJobStore OpenEngine(string path, Durability durability)
{
    var store = new SqliteJobStore(path);
    store.SetDurability(durability);
    return store;
}

bool Run(string workload) => only is null || only.Split(',').Contains(workload);

var durabilities = quick ? new[] { Durability.Normal } : new[] { Durability.Normal, Durability.Full };

foreach (var durability in durabilities)
{
    var sync = durability == Durability.Full ? "FULL" : "NORMAL";
    var dLabel = $"synchronous={sync}";

    if (Run("W1"))
    {
        var n = quick || durability == Durability.Full ? 2_000 : 10_000;
        var rawPath = FreshFile("w1-raw");
        using (var raw = new RawSqlite(rawPath, sync, create: true))
        {
            // Both sides first warm up (JIT, WAL file growth) on their own file.
            for (var i = 0; i < Warmup; i++) raw.Insert(Config);
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < n; i++) raw.Insert(Config);
            Emit(new Row("W1", "raw-sqlite", 1, "enqueue", n / sw.Elapsed.TotalSeconds, "jobs/s", dLabel));
        }
        Cleanup(rawPath);
        var path = FreshFile("w1-engine");
        using (var store = OpenEngine(path, durability))
        {
            var client = new JobClient(store);
            var job = new NewJob("training", Config);
            for (var i = 0; i < Warmup; i++) client.Submit(job);
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < n; i++) client.Submit(job);
            Emit(new Row("W1", "engine", 1, "enqueue", n / sw.Elapsed.TotalSeconds, "jobs/s", dLabel));
        }
        Cleanup(path);
    }

    if (Run("W2"))
    {
        var n = quick ? 20_000 : 100_000;
        var rawPath = FreshFile("w2-raw");
        using (var raw = new RawSqlite(rawPath, sync, create: true))
        {
            var sw = Stopwatch.StartNew();
            raw.InsertMany(n, Config);
            Emit(new Row("W2", "raw-sqlite", 1, "enqueue-batch", n / sw.Elapsed.TotalSeconds, "jobs/s", dLabel));
        }
        Cleanup(rawPath);
        var path = FreshFile("w2-engine");
        using (var store = OpenEngine(path, durability))
        {
            var client = new JobClient(store);
            var jobs = Enumerable.Repeat(new NewJob("training", Config), n).ToArray();
            var sw = Stopwatch.StartNew();
            client.SubmitBatch(jobs);
            Emit(new Row("W2", "engine", 1, "enqueue-batch", n / sw.Elapsed.TotalSeconds, "jobs/s", dLabel));
        }
        Cleanup(path);
    }

    if (Run("W3"))
    {
        var n = quick ? 5_000 : 20_000;
        var workerCounts = durability == Durability.Full ? new[] { 1, 4 } : new[] { 1, 4, 16 };
        foreach (var workers in workerCounts)
        {
            // The floor.
            var rawPath = FreshFile("w3-raw");
            using (var seed = new RawSqlite(rawPath, sync, create: true)) seed.InsertMany(n, Config);
            var rawCounts = new ConcurrentDictionary<long, int>();
            var rawTime = Drain(workers, w =>
            {
                using var raw = new RawSqlite(rawPath, sync, create: false);
                while (raw.Claim($"w{w}") is { } id)
                {
                    raw.Complete(id);
                    rawCounts.AddOrUpdate(id, 1, (_, c) => c + 1);
                }
            });
            Emit(new Row("W3", "raw-sqlite", workers, "drain", n / rawTime, "jobs/s", dLabel));
            Cleanup(rawPath);

            // The engine: claim (attempt token, lease) and the owning completion.
            var path = FreshFile("w3-engine");
            using (var seed = OpenEngine(path, durability))
            {
                new JobClient(seed).SubmitBatch(Enumerable.Repeat(new NewJob("training", Config), n).ToArray());
            }
            var counts = new ConcurrentDictionary<long, int>();
            var time = Drain(workers, w =>
            {
                using var store = OpenEngine(path, durability);
                var client = new JobClient(store);
                var workerId = $"bench-{w}";
                while (client.Claim(workerId) is { } job)
                {
                    client.Finish(new FinishRequest(job.JobId, JobOutcome.Succeeded, job.Attempt, workerId));
                    counts.AddOrUpdate(job.JobId, 1, (_, c) => c + 1);
                }
            });
            using (var check = OpenEngine(path, durability))
            {
                var stats = check.Statistics(null);
                Emit(new Row("W3", "engine", workers, "drain", n / time, "jobs/s", dLabel));
                Emit(new Row("W3", "engine", workers, "duplicates", counts.Values.Sum(c => c - 1), "jobs", dLabel));
                Emit(new Row("W3", "engine", workers, "missing", n - stats.Completed, "jobs", dLabel));
            }
            Cleanup(path);
        }
    }
}

if (Run("W6"))
{
    var n = quick ? 100_000 : 1_000_000;
    var keepPath = args.SkipWhile(a => a != "--w6-path").Skip(1).FirstOrDefault();
    var path = keepPath ?? FreshFile("w6");
    using (var store = OpenEngine(path, Durability.Normal))
    {
        var client = new JobClient(store);
        var types = JobClient.KnownJobTypes;
        const int Chunk = 50_000;
        for (var done = 0; done < n; done += Chunk)
        {
            var batch = new NewJob[Math.Min(Chunk, n - done)];
            for (var i = 0; i < batch.Length; i++)
            {
                batch[i] = new NewJob(types[(done + i) % types.Length], Config, Priority: 1 + (done + i) % 10);
            }
            client.SubmitBatch(batch);
        }
        RawSqlite.MixStatuses(path);
        // Warm up, then time the median of repeated single operations.
        Emit(new Row("W6", "engine", 1, "claim", MedianMs(200, () => client.Claim("bench")), "ms", "synchronous=NORMAL"));
        var pending = new JobQuery { Statuses = new[] { JobStatus.Pending }, First = 20, QueueOrder = true };
        Emit(new Row("W6", "engine", 1, "list-20-pending", MedianMs(200, () => store.List(pending)), "ms", "synchronous=NORMAL"));
        Emit(new Row("W6", "engine", 1, "statistics", MedianMs(200, () => store.Statistics(null)), "ms", "synchronous=NORMAL"));
    }
    Emit(new Row("W6", "engine", 1, "file-size", new FileInfo(path).Length / 1024.0 / 1024.0, "MiB", "synchronous=NORMAL"));
    Emit(new Row("W6", "engine", 1, "jobs", n, "jobs", "synchronous=NORMAL"));
    // With --w6-path the queue stays for the cmdlet-level W6 workloads (the scheduler pass).
    if (keepPath is null) Cleanup(path);
    else JobStores.Close(path);
}

return 0;

static double Drain(int workers, Action<int> body)
{
    var sw = Stopwatch.StartNew();
    var threads = Enumerable.Range(0, workers).Select(w => new Thread(() => body(w)) { IsBackground = true }).ToList();
    threads.ForEach(t => t.Start());
    threads.ForEach(t => t.Join());
    return sw.Elapsed.TotalSeconds;
}

static double MedianMs(int repeats, Action action)
{
    for (var i = 0; i < 5; i++) action();
    var samples = new List<double>(repeats);
    for (var i = 0; i < repeats; i++)
    {
        var sw = Stopwatch.StartNew();
        action();
        samples.Add(sw.Elapsed.TotalMilliseconds);
    }
    samples.Sort();
    return Stats.Percentile(samples, 50);
}
