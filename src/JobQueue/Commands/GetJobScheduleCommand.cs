using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Engine.Storage;

namespace JobQueue.Commands;

/// <summary>Lists schedules by name (wildcards), by id, or all of them, ordered by id.</summary>
[Cmdlet(VerbsCommon.Get, "JobSchedule", DefaultParameterSetName = NameSet)]
[OutputType(typeof(JobSchedule))]
public sealed class GetJobScheduleCommand : JobQueuePipelineCommand
{
    private const string NameSet = "Name";
    private const string IdSet = "Id";

    [Parameter(ParameterSetName = NameSet, Position = 0)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ScheduleNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ScheduleId")]
    public long[] Id { get; set; } = Array.Empty<long>();

    /// <summary>Only enabled schedules (as the guide's list_schedules(enabled_only=True)).</summary>
    [Parameter(ParameterSetName = NameSet)]
    public SwitchParameter Enabled { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == IdSet)
        {
            foreach (var id in Id) Try(() => WriteObject(Client.GetSchedule(id)));
            return;
        }
        var query = new ScheduleQuery { Enabled = Enabled ? true : null };
        if (Name is null)
        {
            foreach (var schedule in Must(() => Client.Store.ListSchedules(query))) WriteObject(schedule);
            return;
        }
        var all = Must(() => Client.Store.ListSchedules(query));
        var seen = new HashSet<long>();
        foreach (var name in Name)
        {
            var pattern = ParseWildcard(name);
            var matches = all.Where(s => pattern.IsMatch(s.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                Try(() => throw JobClient.ScheduleNotFound(name));
            }
            foreach (var schedule in matches.Where(s => seen.Add(s.ScheduleId))) WriteObject(schedule);
        }
    }
}
