using System.Diagnostics;
using System.Text;

namespace JobQueue.Engine.Workers;

/// <summary>
/// Turns a command vector into a ProcessStartInfo: the program found on PATH (or relative to the
/// working directory) before anything starts, so "no such program" is a clear job error rather
/// than a launcher's exit code; arguments passed one by one (no shell, no quoting rules).
/// </summary>
internal sealed class ProcessLaunch
{
    private ProcessLaunch(ProcessStartInfo? startInfo, string? error)
    {
        StartInfo = startInfo;
        Error = error;
    }

    public ProcessStartInfo? StartInfo { get; }
    public string? Error { get; }

    public static ProcessLaunch Prepare(IReadOnlyList<string> command, string workingDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var program = Resolve(command[0], workingDirectory, out var problem);
        if (program is null) return new ProcessLaunch(null, problem);
        var info = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory,
            CreateNoWindow = true,
        };
        for (var i = 1; i < command.Count; i++) info.ArgumentList.Add(command[i]);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        // Python block-buffers stdout into a pipe; unbuffered, the job log follows the trainer live.
        if (!info.Environment.ContainsKey("PYTHONUNBUFFERED")) info.Environment["PYTHONUNBUFFERED"] = "1";
        return new ProcessLaunch(info, null);
    }

    private static string? Resolve(string program, string workingDirectory, out string? problem)
    {
        problem = null;
        var hasFolder = program.Contains('/') || (OperatingSystem.IsWindows() && program.Contains('\\'));
        IEnumerable<string> candidates;
        if (Path.IsPathRooted(program) || hasFolder)
        {
            candidates = new[] { Path.GetFullPath(Path.Combine(workingDirectory, program)) };
        }
        else
        {
            var folders = (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            candidates = folders.Select(folder => Path.Combine(folder, program));
        }
        var extensions = OperatingSystem.IsWindows() && Path.GetExtension(program).Length == 0
            ? (Environment.GetEnvironmentVariable("PATHEXT") ?? ".COM;.EXE;.BAT;.CMD").Split(';', StringSplitOptions.RemoveEmptyEntries).Prepend("")
            : new[] { "" };
        string? notExecutable = null;
        foreach (var candidate in candidates)
        {
            foreach (var extension in extensions)
            {
                var path = candidate + extension;
                if (!File.Exists(path)) continue;
                if (OperatingSystem.IsWindows() || IsExecutable(path)) return path;
                notExecutable ??= path;
            }
        }
        problem = notExecutable is not null
            ? $"Cannot start '{program}': '{notExecutable}' is not executable (chmod +x it, or run it through its interpreter, such as 'python', 'train.py')."
            : hasFolder || Path.IsPathRooted(program)
                ? $"Cannot start '{program}': no such file (relative paths are taken from the worker's directory '{workingDirectory}')."
                : $"Cannot start '{program}': it was not found on the worker's PATH.";
        return null;
    }

    private static bool IsExecutable(string path)
    {
        if (OperatingSystem.IsWindows()) return true;
        try
        {
            const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            return (File.GetUnixFileMode(path) & anyExecute) != 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            return true;
        }
    }
}
