using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using JobQueue.Engine;
using JobQueue.Engine.Storage;

namespace JobQueue.Completers;

/// <summary>Shared plumbing: which database the command line names, and quoting of results.</summary>
internal static class CompletionSupport
{
    public static IJobStore? StoreFor(IDictionary fakeBoundParameters)
    {
        try
        {
            var database = fakeBoundParameters["Database"] as string;
            if (string.IsNullOrWhiteSpace(database)) database = DatabaseLocator.DefaultDatabase();
            if (!JobStores.IsPostgres(database))
            {
                database = ResolvePath(database);
                if (!File.Exists(database)) return null; // never create a database just to complete a name
            }
            return JobStores.Get(database);
        }
        catch (Exception)
        {
            return null;
        }
    }

    // A relative -Database means the same file the cmdlet will open: relative to the PowerShell
    // location (Set-Location), not to the process's working folder.
    private static string ResolvePath(string database)
    {
        try
        {
            // Completers run on the pipeline thread, so a script block sees the user's session.
            // (Made per call: a script block is tied to the runspace that first runs it.)
            var resolved = ScriptBlock.Create("$ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($args[0])").Invoke(database);
            if (resolved.Count == 1 && resolved[0]?.BaseObject is string path) return path;
        }
        catch (Exception)
        {
            // Not on a runspace thread, or a non-file location: fall back to the process folder.
        }
        return Path.GetFullPath(database);
    }

    public static string Quote(string text) =>
        text.Length == 0 || text.Any(c => char.IsWhiteSpace(c) || "'\"`$(){}[];,&|<>@#".Contains(c))
            ? "'" + text.Replace("'", "''") + "'"
            : text;

    public static string Unquote(string word) => word.Trim('\'', '"');
}

/// <summary>The four job types of the guide; any other valid name is accepted too.</summary>
public sealed class JobTypeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = CompletionSupport.Unquote(wordToComplete);
        return JobClient.KnownJobTypes
            .Where(t => t.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(t => new CompletionResult(t, t, CompletionResultType.ParameterValue, $"{t} job"));
    }
}

/// <summary>Job ids from the database, newest first, with their type and status as the tooltip.</summary>
public sealed class JobIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var store = CompletionSupport.StoreFor(fakeBoundParameters);
        if (store is null) return Array.Empty<CompletionResult>();
        try
        {
            return store.CompletionCandidates(CompletionSupport.Unquote(wordToComplete), 50)
                .Select(j => new CompletionResult(
                    j.JobId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    $"{j.JobId} {j.JobType} {j.Status}".Trim(),
                    CompletionResultType.ParameterValue,
                    $"{j.JobId}: {j.Name ?? j.JobType} ({j.Status.ToString().ToLowerInvariant()}, priority {j.Priority})"))
                .ToList();
        }
        catch (JobQueueException)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}

/// <summary>Worker ids from the workers table (with host and state as the tooltip), then those seen on recent jobs.</summary>
public sealed class WorkerIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var store = CompletionSupport.StoreFor(fakeBoundParameters);
        if (store is null) return Array.Empty<CompletionResult>();
        var prefix = CompletionSupport.Unquote(wordToComplete);
        try
        {
            var results = new List<CompletionResult>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var workers = store.ListWorkers(DateTimeOffset.UtcNow)
                .OrderBy(w => w.State == WorkerState.Running || w.State == WorkerState.Stopping ? 0 : 1)
                .ThenBy(w => w.WorkerId, StringComparer.OrdinalIgnoreCase);
            foreach (var w in workers)
            {
                if (!w.WorkerId.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || !seen.Add(w.WorkerId)) continue;
                var running = w.CurrentJobIds.Length > 0 ? $", running {string.Join(",", w.CurrentJobIds)}" : "";
                results.Add(new CompletionResult(CompletionSupport.Quote(w.WorkerId), w.WorkerId, CompletionResultType.ParameterValue,
                    $"{w.WorkerId}: {w.State.ToString().ToLowerInvariant()} on {w.HostName} (pid {w.ProcessId}{running})"));
            }
            var fromJobs = store.List(new JobQuery { First = 500 })
                .Select(j => j.WorkerId)
                .OfType<string>()
                .Where(w => !w.StartsWith("rescue:", StringComparison.Ordinal) && w.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Distinct(StringComparer.Ordinal)
                .OrderBy(w => w, StringComparer.OrdinalIgnoreCase);
            foreach (var w in fromJobs)
            {
                if (seen.Add(w)) results.Add(new CompletionResult(CompletionSupport.Quote(w), w, CompletionResultType.ParameterValue, w));
            }
            return results;
        }
        catch (JobQueueException)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}
