using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using JobQueue.Engine;
using JobQueue.Engine.Scheduling;
using JobQueue.Engine.Storage;

namespace JobQueue.Completers;

/// <summary>Schedule names from the database, with the expression and job type as the tooltip.</summary>
public sealed class ScheduleNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var store = CompletionSupport.StoreFor(fakeBoundParameters);
        if (store is null) return Array.Empty<CompletionResult>();
        var prefix = CompletionSupport.Unquote(wordToComplete);
        try
        {
            return store.ListSchedules(new ScheduleQuery { NameLike = Commands.JobQueueCommand.ToLike(prefix) + "%" })
                .Select(s => new CompletionResult(
                    CompletionSupport.Quote(s.Name),
                    s.Name,
                    CompletionResultType.ParameterValue,
                    $"{s.ScheduleId}: '{s.Expression}' {s.TimeZone}, {s.JobType}{(s.Enabled ? "" : " (disabled)")}"))
                .ToList();
        }
        catch (JobQueueException)
        {
            return Array.Empty<CompletionResult>();
        }
    }
}

/// <summary>Time zone ids this system knows: those that start with the word first, then those that contain it.</summary>
public sealed class TimeZoneCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = CompletionSupport.Unquote(wordToComplete);
        var ids = TimeZones.KnownIds().ToList();
        return ids.Where(id => id.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .OrderBy(id => id, StringComparer.OrdinalIgnoreCase)
            .Concat(ids.Where(id => !id.StartsWith(word, StringComparison.OrdinalIgnoreCase) && id.Contains(word, StringComparison.OrdinalIgnoreCase))
                .OrderBy(id => id, StringComparer.OrdinalIgnoreCase))
            .Select(id => new CompletionResult(CompletionSupport.Quote(id), id, CompletionResultType.ParameterValue, Tooltip(id)))
            .ToList();
    }

    private static string Tooltip(string id)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id).DisplayName;
        }
        catch (Exception)
        {
            return id;
        }
    }
}
