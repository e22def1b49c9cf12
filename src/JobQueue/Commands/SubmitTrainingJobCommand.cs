using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Engine.Storage;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>Adds jobs to the queue. Objects piped into -Config each become a job, inserted in batches.</summary>
[Cmdlet(VerbsLifecycle.Submit, "TrainingJob", DefaultParameterSetName = ConfigSet, SupportsShouldProcess = true)]
[OutputType(typeof(TrainingJob))]
public sealed class SubmitTrainingJobCommand : JobQueueCommand
{
    private const string ConfigSet = "Config";
    private const string ConfigPathSet = "ConfigPath";
    private const int BatchSize = 5_000;

    private readonly List<NewJob> _batch = new();
    private string? _configPathJson;
    private int _records;

    [Parameter(Mandatory = true)]
    [Alias("JobType")]
    [ArgumentCompleter(typeof(JobTypeCompleter))]
    public string Type { get; set; } = "";

    [Parameter(ParameterSetName = ConfigSet, Position = 0, ValueFromPipeline = true)]
    [AllowNull]
    public object? Config { get; set; }

    [Parameter(ParameterSetName = ConfigPathSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string ConfigPath { get; set; } = "";

    [Parameter]
    public int Priority { get; set; } = JobClient.DefaultPriority;

    [Parameter]
    public int MaxRetries { get; set; } = JobClient.DefaultMaxRetries;

    [Parameter]
    public string? Name { get; set; }

    [Parameter]
    public string[]? Command { get; set; }

    [Parameter]
    public TimeSpan? Timeout { get; set; }

    [Parameter]
    public int GpuCount { get; set; }

    [Parameter]
    public DateTime? NotBefore { get; set; }

    protected override void BeginProcessing()
    {
        // Bad arguments stop the command before anything is written.
        Must(() =>
        {
            JobClient.Validate(Template("{}"));
            return 0;
        });
        if (ParameterSetName == ConfigPathSet)
        {
            _configPathJson = Must(() => ConfigConverter.FromFile(
                FileSystemPath(ConfigPath, "config file", ErrorKind.InvalidConfig, "ConfigFileUnreadable")));
        }
        // Open (or create) the database now, so a bad path stops the command before any input is
        // read; but not under -WhatIf, which must leave even a missing database uncreated.
        if (!WhatIfOnly) _ = Client;
    }

    private bool WhatIfOnly => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var whatIf)
        ? whatIf is SwitchParameter { IsPresent: true }
        : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

    protected override void ProcessRecord()
    {
        _records++;
        Try(() =>
        {
            var json = _configPathJson ?? ConfigConverter.ToJson(Config);
            if (!ShouldProcess($"{Type} job (priority {Priority}): {Shorten(json)}", "Submit")) return;
            _batch.Add(Template(json));
            if (_batch.Count >= BatchSize) Flush();
        });
    }

    protected override void EndProcessing()
    {
        Try(Flush);
    }

    private void Flush()
    {
        if (_batch.Count == 0) return;
        var jobs = _batch.ToArray();
        _batch.Clear();
        if (jobs.Length == 1 && _records == 1)
        {
            WriteObject(Client.Submit(jobs[0]));
            return;
        }
        foreach (var job in Client.SubmitBatch(jobs))
        {
            WriteObject(job);
        }
        WriteVerbose($"Submitted {jobs.Length} jobs to {Client.Store.Database}.");
    }

    private NewJob Template(string json) => new(
        Type,
        json,
        Priority,
        MaxRetries,
        Name,
        Command,
        Timeout,
        GpuCount,
        NotBefore is { } nb ? NotBeforeUtc(nb) : null);

    // Through UTC, which ToUniversalTime clamps to the calendar: DateTime.MinValue as a local time
    // east of Greenwich (or MaxValue west of it) has no DateTimeOffset.
    private static DateTimeOffset NotBeforeUtc(DateTime value) => new(
        value.Kind == DateTimeKind.Utc ? value : DateTime.SpecifyKind(value, DateTimeKind.Local).ToUniversalTime(), TimeSpan.Zero);

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
