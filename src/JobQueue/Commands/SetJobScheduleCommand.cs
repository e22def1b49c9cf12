using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Engine.Storage;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>
/// Changes schedules. Only the parameters given change. A new -Cron or -TimeZone (or -StartAt)
/// computes an enabled schedule's next run again from now; the rest keeps it.
/// </summary>
[Cmdlet(VerbsCommon.Set, "JobSchedule", DefaultParameterSetName = NameSet, SupportsShouldProcess = true)]
[OutputType(typeof(JobSchedule))]
public sealed class SetJobScheduleCommand : JobScheduleCommand
{
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NewName { get; set; }

    [Parameter]
    [Alias("JobType")]
    [ArgumentCompleter(typeof(JobTypeCompleter))]
    public string? Type { get; set; }

    [Parameter]
    [Alias("Expression")]
    [ValidateNotNullOrEmpty]
    public string? Cron { get; set; }

    [Parameter]
    [AllowNull]
    public object? Config { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConfigPath { get; set; }

    [Parameter]
    public int? Priority { get; set; }

    [Parameter]
    public int? MaxRetries { get; set; }

    [Parameter]
    [TimeZoneArgument]
    [ArgumentCompleter(typeof(TimeZoneCompleter))]
    [ValidateNotNullOrEmpty]
    public string? TimeZone { get; set; }

    /// <summary>The command vector; $null or @() removes it (workers then use their -Handler).</summary>
    [Parameter]
    [AllowNull]
    [AllowEmptyCollection]
    public string[]? Command { get; set; }

    /// <summary>The jobs' timeout; $null removes it.</summary>
    [Parameter]
    [AllowNull]
    public TimeSpan? Timeout { get; set; }

    [Parameter]
    public int? GpuCount { get; set; }

    [Parameter]
    public MisfirePolicy? MisfirePolicy
    {
        get => (MisfirePolicy?)_misfirePolicy;
        set => _misfirePolicy = value;
    }

    [Parameter]
    public OverlapPolicy? OverlapPolicy
    {
        get => (OverlapPolicy?)_overlapPolicy;
        set => _overlapPolicy = value;
    }

    // Boxed, as in New-JobSchedule: no engine value-type fields in this assembly.
    private object? _misfirePolicy;
    private object? _overlapPolicy;

    /// <summary>Compute the next run again, from this moment, even when the expression did not change.</summary>
    [Parameter]
    public DateTimeOffset? StartAt { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private string? _configJson;

    protected override void BeginProcessing()
    {
        if (MyInvocation.BoundParameters.ContainsKey(nameof(Config)) && ConfigPath is not null)
        {
            ThrowTerminatingError(ErrorFactory.Create("ConfigAndConfigPath", ErrorCategory.InvalidArgument,
                "Give -Config or -ConfigPath, not both.", null));
        }
        if (ConfigPath is not null)
        {
            _configJson = Must(() => ConfigConverter.FromFile(SessionState.Path.GetUnresolvedProviderPathFromPSPath(ConfigPath)));
        }
        else if (MyInvocation.BoundParameters.ContainsKey(nameof(Config)))
        {
            _configJson = Must(() => ConfigConverter.ToJson(Config));
        }
        if (NewName is not null && (Name.Length > 1 || Id.Length > 1))
        {
            ThrowTerminatingError(ErrorFactory.Create("NewNameNeedsOneSchedule", ErrorCategory.InvalidArgument,
                "-NewName renames one schedule; name exactly one.", NewName));
        }
    }

    protected override void ProcessRecord()
    {
        foreach (var current in Targets())
        {
            Try(() =>
            {
                var bound = MyInvocation.BoundParameters;
                var changed = JobClient.DefinitionOf(current) with
                {
                    Name = NewName ?? current.Name,
                    JobType = Type ?? current.JobType,
                    ConfigJson = _configJson ?? current.ConfigJson,
                    Expression = Cron ?? current.Expression,
                    TimeZone = TimeZone ?? current.TimeZone,
                    Priority = Priority ?? current.Priority,
                    MaxRetries = MaxRetries ?? current.MaxRetries,
                    Command = bound.ContainsKey(nameof(Command)) ? Command : current.Command,
                    Timeout = bound.ContainsKey(nameof(Timeout)) ? Timeout : current.Timeout,
                    GpuCount = GpuCount ?? current.GpuCount,
                    MisfirePolicy = MisfirePolicy ?? current.MisfirePolicy,
                    OverlapPolicy = OverlapPolicy ?? current.OverlapPolicy,
                };
                // Validate before asking, so -WhatIf reports bad input too.
                JobClient.Validate(changed, out _);
                if (!ShouldProcess(Describe(current), "Change")) return;
                var updated = Client.UpdateSchedule(current, changed, StartAt);
                WriteVerbose($"Changed schedule '{updated.Name}'; next run: {(updated.NextRun is { } next ? next.ToString("yyyy-MM-ddTHH:mm:ss") : "none")}.");
                if (PassThru) WriteObject(updated);
            });
        }
    }
}
