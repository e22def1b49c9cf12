using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>Lists the workers of the queue on every host: alive, stopping, stopped or lost, with what they run.</summary>
[Cmdlet(VerbsCommon.Get, "JobWorker")]
[OutputType(typeof(JobWorker))]
public sealed class GetJobWorkerCommand : JobQueueCommand
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(WorkerIdCompleter))]
    public string[]? WorkerId { get; set; }

    [Parameter]
    public WorkerState[]? State { get; set; }

    protected override void ProcessRecord()
    {
        var workers = Must(() => Client.GetWorkers());
        foreach (var worker in WorkerSelection.Select(workers, WorkerId, this))
        {
            if (State is { Length: > 0 } && !State.Contains(worker.State)) continue;
            WriteObject(worker);
        }
    }
}

/// <summary>Matches worker ids (with wildcards) the way Get-Process matches names: an exact id that matches nothing is an error.</summary>
internal static class WorkerSelection
{
    public static IEnumerable<JobWorker> Select(IReadOnlyList<JobWorker> workers, string[]? ids, JobQueueCommand cmdlet)
    {
        if (ids is not { Length: > 0 }) return workers;
        var selected = new List<JobWorker>();
        foreach (var id in ids)
        {
            var pattern = cmdlet.ParseWildcard(id);
            var matches = workers.Where(w => pattern.IsMatch(w.WorkerId)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(id))
            {
                cmdlet.WriteError(ErrorFactory.From(new JobQueueException(ErrorKind.WorkerNotFound,
                    $"No worker with id '{id}' has registered with this queue.", id)));
            }
            selected.AddRange(matches.Where(m => !selected.Contains(m)));
        }
        return selected;
    }
}
