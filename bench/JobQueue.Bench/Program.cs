using System.Collections.Concurrent;
using System.Diagnostics;
using JobQueue.Bench;
using JobQueue.Engine;
using JobQueue.Engine.Storage;

// Engine-level benchmarks W1, W2, W3 and W6 (BENCHMARKS.md), each beside the floor (the leanest
// hand-written queue) measured in the same run on the same kind of database: a SQLite file, or
// with --postgres <admin connection string> databases made on that PostgreSQL server.
// Output: TSV rows on stdout.
var quick = args.Contains("--quick");
string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
var only = Arg("--only");
var workRoot = Arg("--work") ?? Path.Combine(Path.GetTempPath(), "jobqueue-bench");
Directory.CreateDirectory(workRoot);
var postgres = Arg("--postgres");
Backend backend = postgres is null ? new SqliteBackend(workRoot) : new PostgresBackend(postgres);
// Every round trip to a server costs what a SQLite call does not, so its runs are shorter.
var scale = postgres is null ? 1.0 : 0.5;
const string Config = "{\"lr\":5e-5,\"epochs\":10}";
const int Warmup = 2_000;
var Rounds = quick ? 1 : 3;

void Emit(Row row)
{
    Console.WriteLine(row.ToTsv());
    Console.Out.Flush();
}

int Scaled(int n) => (int)(n * scale);
bool Run(string workload) => only is null || only.Split(',').Contains(workload);

var durabilities = quick ? new[] { Durability.Normal } : new[] { Durability.Normal, Durability.Full };

foreach (var durability in durabilities)
{
    var dLabel = backend.DurabilityLabel(durability);

    if (Run("W1"))
    {
        // Rounds alternate floor and engine on their own databases, and the median round is
        // reported: on a shared machine a burst of other work then hits one round, not one side.
        var n = Scaled(quick || durability == Durability.Full ? 2_000 : 5_000);
        var warmup = Math.Min(Warmup, n);
        var rawTarget = backend.Fresh("w1-raw");
        var target = backend.Fresh("w1-engine");
        using (var raw = backend.OpenFloor(rawTarget, durability, create: true))
        using (var store = backend.OpenEngine(target, durability))
        {
            var client = new JobClient(store);
            var job = new NewJob("training", Config);
            // Both sides first warm up (JIT, WAL file growth) on their own database.
            for (var i = 0; i < warmup; i++) raw.Insert(Config);
            for (var i = 0; i < warmup; i++) client.Submit(job);
            var floorRates = new List<double>();
            var engineRates = new List<double>();
            var notifyCosts = new List<double>();
            for (var round = 0; round < Rounds; round++)
            {
                var sw = Stopwatch.StartNew();
                for (var i = 0; i < n; i++) raw.Insert(Config);
                floorRates.Add(n / sw.Elapsed.TotalSeconds);
                if (raw is RawPostgres pg)
                {
                    // What a NOTIFY after each submission (the wake-up of idle workers) adds to it.
                    sw.Restart();
                    for (var i = 0; i < n; i++) pg.InsertAndNotify(Config);
                    notifyCosts.Add(sw.Elapsed.TotalMilliseconds / n - 1000 / floorRates[^1]);
                }
                sw.Restart();
                for (var i = 0; i < n; i++) client.Submit(job);
                engineRates.Add(n / sw.Elapsed.TotalSeconds);
            }
            Emit(new Row("W1", backend.FloorLevel, 1, "enqueue", Median(floorRates), "jobs/s", dLabel));
            if (notifyCosts.Count > 0) Emit(new Row("W1", backend.FloorLevel, 1, "notify-cost-per-submit", Median(notifyCosts), "ms", dLabel));
            Emit(new Row("W1", backend.EngineLevel, 1, "enqueue", Median(engineRates), "jobs/s", dLabel));
        }
        backend.Cleanup(rawTarget);
        backend.Cleanup(target);
    }

    if (Run("W2"))
    {
        // Rounds alternate floor and engine, each on a fresh database; medians reported (as W1).
        var n = quick ? 20_000 : 100_000;
        var floorRates = new List<double>();
        var engineRates = new List<double>();
        var jobs = Enumerable.Repeat(new NewJob("training", Config), n).ToArray();
        for (var round = 0; round < Rounds; round++)
        {
            var rawTarget = backend.Fresh("w2-raw");
            using (var raw = backend.OpenFloor(rawTarget, durability, create: true))
            {
                raw.InsertMany(1_000, Config);   // warm-up
                var sw = Stopwatch.StartNew();
                raw.InsertMany(n, Config);
                floorRates.Add(n / sw.Elapsed.TotalSeconds);
            }
            backend.Cleanup(rawTarget);
            var target = backend.Fresh("w2-engine");
            using (var store = backend.OpenEngine(target, durability))
            {
                var client = new JobClient(store);
                client.SubmitBatch(Enumerable.Repeat(new NewJob("training", Config), 1_000).ToArray());   // warm-up
                var sw = Stopwatch.StartNew();
                client.SubmitBatch(jobs);
                engineRates.Add(n / sw.Elapsed.TotalSeconds);
            }
            backend.Cleanup(target);
        }
        Emit(new Row("W2", backend.FloorLevel, 1, "enqueue-batch", Median(floorRates), "jobs/s", dLabel));
        Emit(new Row("W2", backend.EngineLevel, 1, "enqueue-batch", Median(engineRates), "jobs/s", dLabel));
    }

    if (Run("W3"))
    {
        var n = Scaled(quick ? 5_000 : durability == Durability.Full ? 5_000 : 10_000);
        var workerCounts = durability == Durability.Full ? new[] { 1, 4 } : new[] { 1, 4, 16 };
        foreach (var workers in workerCounts)
        {
            // Rounds alternate floor and engine drains (each on a fresh queue); medians reported.
            var floorRates = new List<double>();
            var engineRates = new List<double>();
            long duplicates = 0, missing = 0;
            for (var round = 0; round < Rounds; round++)
            {
                var rawTarget = backend.Fresh("w3-raw");
                using (var seed = backend.OpenFloor(rawTarget, durability, create: true)) seed.InsertMany(n, Config);
                var rawTime = Drain(workers, w =>
                {
                    using var raw = backend.OpenFloor(rawTarget, durability, create: false);
                    while (raw.Claim($"w{w}") is { } id) raw.Complete(id);
                });
                floorRates.Add(n / rawTime);
                backend.Cleanup(rawTarget);

                // The engine as a worker's slot runs it: a claim (attempt token, lease), then each
                // owning completion claims the next job in the same transaction.
                var target = backend.Fresh("w3-engine");
                using (var seed = backend.OpenEngine(target, durability))
                {
                    new JobClient(seed).SubmitBatch(Enumerable.Repeat(new NewJob("training", Config), n).ToArray());
                }
                var counts = new ConcurrentDictionary<long, int>();
                var time = Drain(workers, w =>
                {
                    using var store = backend.OpenEngine(target, durability);
                    var client = new JobClient(store);
                    var workerId = $"bench-{w}";
                    var job = client.Claim(workerId);
                    while (job is not null)
                    {
                        counts.AddOrUpdate(job.JobId, 1, (_, c) => c + 1);
                        job = client.FinishAndClaim(new FinishRequest(job.JobId, JobOutcome.Succeeded, job.Attempt, workerId), workerId).Next;
                    }
                });
                engineRates.Add(n / time);
                using (var check = backend.OpenEngine(target, durability))
                {
                    duplicates += counts.Values.Sum(c => c - 1);
                    missing += n - check.Statistics(null).Completed;
                }
                backend.Cleanup(target);
            }
            Emit(new Row("W3", backend.FloorLevel, workers, "drain", Median(floorRates), "jobs/s", dLabel));
            Emit(new Row("W3", backend.EngineLevel, workers, "drain", Median(engineRates), "jobs/s", dLabel));
            Emit(new Row("W3", backend.EngineLevel, workers, "duplicates", duplicates, "jobs", dLabel));
            Emit(new Row("W3", backend.EngineLevel, workers, "missing", missing, "jobs", dLabel));
        }
    }
}

if (Run("W6"))
{
    var n = quick ? 100_000 : 1_000_000;
    var dLabel = backend.DurabilityLabel(Durability.Normal);
    var keep = Arg("--w6-keep");
    var target = keep is null ? backend.Fresh("w6") : postgres is null ? keep : RawPostgres.CreateDatabase(postgres, "bench_w6");
    using (var store = backend.OpenEngine(target, Durability.Normal))
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
        backend.MixStatuses(target);
        // Warm up, then time the median of repeated single operations.
        Emit(new Row("W6", backend.EngineLevel, 1, "claim", MedianMs(200, () => client.Claim("bench")), "ms", dLabel));
        var pending = new JobQuery { Statuses = new[] { JobStatus.Pending }, First = 20, QueueOrder = true };
        Emit(new Row("W6", backend.EngineLevel, 1, "list-20-pending", MedianMs(200, () => store.List(pending)), "ms", dLabel));
        Emit(new Row("W6", backend.EngineLevel, 1, "statistics", MedianMs(200, () => store.Statistics(null)), "ms", dLabel));
    }
    Emit(new Row("W6", backend.EngineLevel, 1, postgres is null ? "file-size" : "database-size", backend.SizeMiB(target), "MiB", dLabel));
    Emit(new Row("W6", backend.EngineLevel, 1, "jobs", n, "jobs", dLabel));
    // With --w6-keep the queue stays for the cmdlet-level W6 workloads (the scheduler pass); on
    // PostgreSQL its connection string is written to that file.
    if (keep is null) backend.Cleanup(target);
    else if (postgres is null) JobStores.Close(target);
    else File.WriteAllText(keep, target);
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

static double Median(List<double> values)
{
    var sorted = values.OrderBy(v => v).ToList();
    return Stats.Percentile(sorted, 50);
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
