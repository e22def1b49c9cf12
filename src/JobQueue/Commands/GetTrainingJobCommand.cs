using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Engine.Storage;

namespace JobQueue.Commands;

/// <summary>Lists jobs, newest first; with -Status Pending alone, in the order workers will claim them.</summary>
[Cmdlet(VerbsCommon.Get, "TrainingJob", DefaultParameterSetName = QuerySet)]
[OutputType(typeof(TrainingJob))]
public sealed class GetTrainingJobCommand : JobQueuePipelineCommand
{
    private const string QuerySet = "Query";
    private const string IdSet = "Id";

    [Parameter(ParameterSetName = IdSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("JobId")]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public long[] Id { get; set; } = Array.Empty<long>();

    [Parameter(ParameterSetName = QuerySet)]
    public JobStatus[]? Status { get; set; }

    [Parameter(ParameterSetName = QuerySet)]
    [Alias("JobType")]
    [ArgumentCompleter(typeof(JobTypeCompleter))]
    public string[]? Type { get; set; }

    [Parameter(ParameterSetName = QuerySet)]
    [SupportsWildcards]
    public string? Name { get; set; }

    [Parameter(ParameterSetName = QuerySet)]
    [ArgumentCompleter(typeof(WorkerIdCompleter))]
    public string? WorkerId { get; set; }

    [Parameter(ParameterSetName = QuerySet)]
    public long? ScheduleId { get; set; }

    [Parameter(ParameterSetName = QuerySet)]
    [ValidateRange(1, int.MaxValue)]
    public int? First { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == IdSet)
        {
            foreach (var id in Id)
            {
                Try(() => WriteObject(Client.GetJob(id)));
            }
            return;
        }
        if (Type is not null)
        {
            foreach (var type in Type) Must(() => { JobClient.ValidateJobType(type); return 0; });
        }
        var (like, pattern, matchesNothing) = NameFilter(Name);
        if (matchesNothing) return;
        var query = new JobQuery
        {
            Statuses = Status?.Distinct().ToArray(),
            Types = Type,
            NameLike = like,
            WorkerId = WorkerId,
            ScheduleId = ScheduleId,
            // With a [...] set the store's match is only a prefilter: count after the real match.
            First = pattern is null ? First : null,
            QueueOrder = Status is { Length: > 0 } && Status.All(s => s == JobStatus.Pending),
        };
        IEnumerable<TrainingJob> jobs = Must(() => Client.Store.List(query));
        if (pattern is not null)
        {
            jobs = jobs.Where(j => j.Name is not null && pattern.IsMatch(j.Name)).Take(First ?? int.MaxValue);
        }
        foreach (var job in jobs) WriteObject(job);
    }
}
