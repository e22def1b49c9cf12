using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Engine.Storage;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>
/// Creates a cron schedule whose occurrences become jobs. Parameters also bind by property name,
/// so schedules piped from another queue (or rows of a CSV file) are copied.
/// </summary>
[Cmdlet(VerbsCommon.New, "JobSchedule", DefaultParameterSetName = ConfigSet, SupportsShouldProcess = true)]
[OutputType(typeof(JobSchedule))]
public sealed class NewJobScheduleCommand : JobQueueCommand
{
    private const string ConfigSet = "Config";
    private const string ConfigPathSet = "ConfigPath";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("JobType")]
    [ArgumentCompleter(typeof(JobTypeCompleter))]
    public string Type { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Expression", "Schedule")]
    public string Cron { get; set; } = "";

    [Parameter(ParameterSetName = ConfigSet, ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public object? Config { get; set; }

    [Parameter(ParameterSetName = ConfigPathSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string ConfigPath { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int Priority { get; set; } = JobClient.DefaultPriority;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int MaxRetries { get; set; } = JobClient.DefaultMaxRetries;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [TimeZoneArgument]
    [ArgumentCompleter(typeof(TimeZoneCompleter))]
    public string TimeZone { get; set; } = Engine.Scheduling.TimeZones.Default;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    [AllowEmptyCollection]
    public string[]? Command { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public TimeSpan? Timeout { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int GpuCount { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public MisfirePolicy MisfirePolicy
    {
        get => (MisfirePolicy)_misfirePolicy;
        set => _misfirePolicy = value;
    }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public OverlapPolicy OverlapPolicy
    {
        get => (OverlapPolicy)_overlapPolicy;
        set => _overlapPolicy = value;
    }

    // Engine enums stay boxed: a field of an engine value type would make PowerShell load the
    // engine while it scans this assembly, before the private load context is in place.
    private object _misfirePolicy = Engine.MisfirePolicy.RunOnce;
    private object _overlapPolicy = Engine.OverlapPolicy.Allow;

    [Parameter]
    public SwitchParameter Disabled { get; set; }

    /// <summary>Compute the first run from this moment instead of now (a later start, or a backfill with -MisfirePolicy RunAll).</summary>
    [Parameter]
    public DateTimeOffset? StartAt { get; set; }

    protected override void ProcessRecord()
    {
        var json = ParameterSetName == ConfigPathSet
            ? Must(() => ConfigConverter.FromFile(SessionState.Path.GetUnresolvedProviderPathFromPSPath(ConfigPath)))
            : null;
        Try(() =>
        {
            var definition = JobClient.Validate(new ScheduleDefinition(
                Name, Type, json ?? ConfigConverter.ToJson(Config), Cron, TimeZone, Priority, MaxRetries,
                Command, Timeout, GpuCount, MisfirePolicy, OverlapPolicy), out _);
            var zone = definition.TimeZone == Engine.Scheduling.TimeZones.Default ? "UTC" : definition.TimeZone;
            if (!ShouldProcess($"schedule '{definition.Name}': {definition.JobType} job (priority {definition.Priority}) at '{definition.Expression}' {zone}", "Create")) return;
            var schedule = Client.CreateSchedule(definition, enabled: !Disabled, startAt: StartAt);
            WriteVerbose($"Created schedule '{schedule.Name}' with ID={schedule.ScheduleId}; next run: {(schedule.NextRun is { } next ? next.ToString("yyyy-MM-ddTHH:mm:ss") : "none (disabled)")}.");
            WriteObject(schedule);
        });
    }
}
