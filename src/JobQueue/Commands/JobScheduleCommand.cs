using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Engine.Storage;

namespace JobQueue.Commands;

/// <summary>
/// Base of the cmdlets that act on existing schedules: they take -Name (wildcards allowed),
/// -Id, or JobSchedule objects from the pipeline (which also bring their -Database).
/// </summary>
public abstract class JobScheduleCommand : JobQueuePipelineCommand
{
    protected const string NameSet = "Name";
    protected const string IdSet = "Id";
    protected const string InputObjectSet = "InputObject";

    /// <summary>Names of schedules; wildcards select every matching schedule.</summary>
    [Parameter(ParameterSetName = NameSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ScheduleNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = IdSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ScheduleId")]
    public long[] Id { get; set; } = Array.Empty<long>();

    [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, ValueFromPipeline = true)]
    public JobSchedule[] InputObject { get; set; } = Array.Empty<JobSchedule>();

    /// <summary>
    /// The schedules this record names, read fresh from the database. A name or id that does not
    /// exist is a non-terminating ScheduleNotFound error; a wildcard that matches nothing is not.
    /// </summary>
    protected IEnumerable<JobSchedule> Targets()
    {
        var found = new List<JobSchedule>();
        switch (ParameterSetName)
        {
            case IdSet:
                foreach (var id in Id) Try(() => found.Add(Client.GetSchedule(id)));
                break;
            case InputObjectSet:
                foreach (var schedule in InputObject) Try(() => found.Add(Client.GetSchedule(schedule.ScheduleId)));
                break;
            default:
                foreach (var name in Name)
                {
                    if (WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        found.AddRange(Matching(name, new ScheduleQuery()));
                    }
                    else
                    {
                        Try(() => found.Add(Client.GetSchedule(name)));
                    }
                }
                break;
        }
        return found.DistinctBy(s => s.ScheduleId);
    }

    /// <summary>Schedules whose name matches a PowerShell wildcard (case-insensitive).</summary>
    protected IEnumerable<JobSchedule> Matching(string wildcard, ScheduleQuery query)
    {
        var pattern = ParseWildcard(wildcard);
        return Must(() => Client.Store.ListSchedules(query)).Where(s => pattern.IsMatch(s.Name));
    }

    internal static string Describe(JobSchedule schedule) =>
        $"schedule '{schedule.Name}' (id {schedule.ScheduleId}, '{schedule.Expression}'{(schedule.TimeZone == "UTC" ? "" : " " + schedule.TimeZone)})";
}
