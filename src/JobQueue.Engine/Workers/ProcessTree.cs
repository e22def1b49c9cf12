using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace JobQueue.Engine.Workers;

/// <summary>
/// Starting a trainer so that it and everything it spawns (data-loader workers, shells) can be
/// signalled and stopped as one tree, on each platform:
/// Linux: started through setsid, so the trainer leads its own session and process group (and
/// does not get the terminal's Ctrl+C: the worker decides when it stops); the group, the
/// /proc descendants and any process carrying the attempt's JOBQUEUE_* variables are signalled.
/// macOS: SIGTERM to the trainer, then .NET's tree kill. Windows: no console signal reaches a
/// process in another console group, so the grace period is waited and the tree is killed.
/// </summary>
internal static class ProcessTree
{
    private const int SIGKILL = 9;
    private const int SIGTERM = 15;

    private static readonly string? Setsid = OperatingSystem.IsLinux()
        ? new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists)
        : null;

    /// <summary>Starts the process in a process group of its own where the platform allows.</summary>
    public static Process Start(ProcessStartInfo info, out bool ownGroup)
    {
        ownGroup = false;
        if (Setsid is not null)
        {
            // setsid execs the program in place (the child of a fork is never a group leader),
            // so the pid we get is the trainer's, and it leads its own group.
            var program = info.FileName;
            info.FileName = Setsid;
            info.ArgumentList.Insert(0, program);
            ownGroup = true;
        }
        return Process.Start(info) ?? throw new InvalidOperationException($"The process '{info.FileName}' did not start.");
    }

    /// <summary>Asks the tree to stop (SIGTERM on Unix; nothing on Windows, which has no such signal for it).</summary>
    public static void Terminate(Process root, bool ownGroup, AttemptIdentity? identity) => Signal(root, ownGroup, identity, SIGTERM);

    /// <summary>Kills the whole tree.</summary>
    public static void Kill(Process root, bool ownGroup, AttemptIdentity? identity)
    {
        Signal(root, ownGroup, identity, SIGKILL);
        try
        {
            if (!root.HasExited) root.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    private static void Signal(Process root, bool ownGroup, AttemptIdentity? identity, int signal)
    {
        if (OperatingSystem.IsWindows()) return;
        int pid;
        try
        {
            pid = root.Id;
        }
        catch (InvalidOperationException)
        {
            return;
        }
        var targets = new HashSet<int>();
        if (OperatingSystem.IsLinux())
        {
            // Collect first, then signal: a killed parent's children are reparented at once.
            targets.UnionWith(Descendants(pid));
            if (identity is not null) targets.UnionWith(FindByIdentity(identity));
        }
        if (ownGroup) SendSignal(-pid, signal);
        if (!HasExitedSafe(root)) SendSignal(pid, signal);
        foreach (var target in targets) SendSignal(target, signal);
    }

    /// <summary>Signals leftovers of a tree whose root has exited (the group and the attempt's processes).</summary>
    public static void SignalLeftovers(int rootPid, bool ownGroup, AttemptIdentity? identity, bool kill)
    {
        if (OperatingSystem.IsWindows()) return;
        var signal = kill ? SIGKILL : SIGTERM;
        if (ownGroup) SendSignal(-rootPid, signal);
        if (identity is not null && OperatingSystem.IsLinux())
        {
            foreach (var pid in FindByIdentity(identity)) SendSignal(pid, signal);
        }
    }

    /// <summary>Whether anything of the tree is left after its root exited.</summary>
    public static bool HasLeftovers(int rootPid, bool ownGroup, AttemptIdentity? identity)
    {
        if (OperatingSystem.IsWindows()) return false;
        if (ownGroup && kill(-rootPid, 0) == 0) return true;
        return identity is not null && OperatingSystem.IsLinux() && FindByIdentity(identity).Count > 0;
    }

    public static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            var state = ReadStat(pid);
            return state is not null && state.Value.State is not ('Z' or 'X');
        }
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Linux: all processes below <paramref name="pid"/>, from /proc.</summary>
    public static IReadOnlyCollection<int> Descendants(int pid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var candidate in AllPids())
        {
            if (ReadStat(candidate) is not { } stat) continue;
            if (!children.TryGetValue(stat.ParentId, out var list)) children[stat.ParentId] = list = new List<int>();
            list.Add(candidate);
        }
        var found = new HashSet<int>();
        var queue = new Queue<int>();
        queue.Enqueue(pid);
        while (queue.Count > 0)
        {
            if (!children.TryGetValue(queue.Dequeue(), out var list)) continue;
            foreach (var child in list)
            {
                if (found.Add(child)) queue.Enqueue(child);
            }
        }
        return found;
    }

    /// <summary>
    /// Linux: the live processes started for one attempt of one job of one queue, found by the
    /// JOBQUEUE_* variables they inherited (so children that left the group are found too, and an
    /// unrelated process that reuses a pid never is).
    /// </summary>
    public static IReadOnlyList<int> FindByIdentity(AttemptIdentity identity)
    {
        var found = new List<int>();
        if (!OperatingSystem.IsLinux()) return found;
        var self = Environment.ProcessId;
        foreach (var pid in AllPids())
        {
            if (pid == self) continue;
            var environment = ReadEnvironment(pid);
            if (environment is null) continue;
            if (identity.Matches(environment) && IsAlive(pid)) found.Add(pid);
        }
        return found;
    }

    /// <summary>Linux: the live processes started by workers of this queue, by (job, attempt).</summary>
    public static Dictionary<(long JobId, int Attempt), List<int>> FindByDatabase(string database)
    {
        var found = new Dictionary<(long, int), List<int>>();
        if (!OperatingSystem.IsLinux()) return found;
        var self = Environment.ProcessId;
        foreach (var pid in AllPids())
        {
            if (pid == self || ReadEnvironment(pid) is not { } environment) continue;
            if (!environment.TryGetValue(WorkerEnvironment.Database, out var db) || db != database) continue;
            if (!environment.TryGetValue(WorkerEnvironment.JobId, out var id) || !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var jobId)) continue;
            if (!environment.TryGetValue(WorkerEnvironment.Attempt, out var a) || !int.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var attempt)) continue;
            if (!IsAlive(pid)) continue;
            if (!found.TryGetValue((jobId, attempt), out var list)) found[(jobId, attempt)] = list = new List<int>();
            list.Add(pid);
        }
        return found;
    }

    /// <summary>Linux: a process's start environment (null when it is gone or not ours to read).</summary>
    public static Dictionary<string, string>? ReadEnvironment(int pid)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes($"/proc/{pid}/environ");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // Cheap pre-check: most processes are not ours.
        if (bytes.AsSpan().IndexOf("JOBQUEUE_JOB_ID="u8) < 0) return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Encoding.UTF8.GetString(bytes).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = entry.IndexOf('=');
            if (eq > 0) result[entry[..eq]] = entry[(eq + 1)..];
        }
        return result;
    }

    /// <summary>When a process started (to tell it from a later one with the same pid), or null when it is gone.</summary>
    public static DateTimeOffset? StartTime(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return new DateTimeOffset(p.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return null;
        }
    }

    private static IEnumerable<int> AllPids()
    {
        string[] entries;
        try
        {
            entries = Directory.GetDirectories("/proc");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            yield break;
        }
        foreach (var entry in entries)
        {
            if (int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) yield return pid;
        }
    }

    private static (char State, int ParentId)? ReadStat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (comm) S ppid ..." where comm may hold spaces and parentheses.
            var close = text.LastIndexOf(')');
            if (close < 0 || close + 4 > text.Length) return null;
            var fields = text[(close + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static bool HasExitedSafe(Process p)
    {
        try
        {
            return p.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static void SendSignal(int pid, int signal)
    {
        if (pid == 0 || pid == -1 || pid == Environment.ProcessId || pid == -Environment.ProcessId) return;
        try
        {
            kill(pid, signal);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // No libc (not Unix): nothing to signal with.
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}

/// <summary>The JOBQUEUE_* variables that mark the processes of one attempt of one job.</summary>
public sealed record AttemptIdentity(string Database, long JobId, int Attempt)
{
    public bool Matches(IReadOnlyDictionary<string, string> environment) =>
        environment.TryGetValue(WorkerEnvironment.JobId, out var id) && id == JobId.ToString(CultureInfo.InvariantCulture)
        && environment.TryGetValue(WorkerEnvironment.Attempt, out var attempt) && attempt == Attempt.ToString(CultureInfo.InvariantCulture)
        && environment.TryGetValue(WorkerEnvironment.Database, out var database) && database == Database;
}

/// <summary>The variables a job's process gets (SPEC section 4).</summary>
public static class WorkerEnvironment
{
    public const string JobId = "JOBQUEUE_JOB_ID";
    public const string Database = "JOBQUEUE_DATABASE";
    public const string Attempt = "JOBQUEUE_ATTEMPT";
    public const string WorkerId = "JOBQUEUE_WORKER_ID";
    public const string Config = "JOBQUEUE_CONFIG";
    public const string CudaVisibleDevices = "CUDA_VISIBLE_DEVICES";
}
