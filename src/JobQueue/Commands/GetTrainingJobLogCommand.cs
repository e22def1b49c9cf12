using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Engine.Storage;

namespace JobQueue.Commands;

/// <summary>Shows a job's log; -Wait follows new lines until the job ends.</summary>
[Cmdlet(VerbsCommon.Get, "TrainingJobLog")]
[OutputType(typeof(JobLogEntry))]
public sealed class GetTrainingJobLogCommand : LongRunningCommand
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("JobId")]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public long Id { get; set; }

    [Parameter]
    public JobLogLevel[]? Level { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Tail { get; set; }

    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>With -Wait: how often new lines are fetched.</summary>
    [Parameter]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var query = new LogQuery(Id) { Levels = Level, Tail = Tail };
            // With -Tail, following starts after the newest entry that exists now (read first, so a
            // line written meanwhile is not lost): -Tail 0 -Wait shows only new lines, like tail -n 0 -f.
            var newest = Wait && Tail is not null ? Client.Store.GetLogs(new LogQuery(Id) { Tail = 1 }) : Array.Empty<JobLogEntry>();
            var last = Math.Max(Emit(Client.GetLogs(query), 0), newest.Count > 0 ? newest[0].LogId : 0);
            if (!Wait) return;
            var interval = PollInterval > TimeSpan.Zero ? PollInterval : TimeSpan.FromMilliseconds(200);
            var next = query with { Tail = null };
            while (true)
            {
                var job = Client.GetJob(Id);
                // Read after checking the state, so lines written just before the end are not missed.
                last = Emit(Client.Store.GetLogs(next with { AfterLogId = last }), last);
                if (job.Status.IsTerminal() || !Pause(interval)) return;
            }
        });
    }

    private long Emit(IReadOnlyList<JobLogEntry> entries, long last)
    {
        foreach (var entry in entries)
        {
            WriteObject(entry);
            last = entry.LogId;
        }
        return last;
    }
}
