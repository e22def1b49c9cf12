using System.Globalization;
using System.Management.Automation;
using JobQueue.Completers;
using JobQueue.Engine;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>
/// Adds a line to a job's log. Inside a running job the id defaults to $env:JOBQUEUE_JOB_ID, so
/// a trainer script can write progress without knowing its id.
/// </summary>
[Cmdlet(VerbsCommunications.Write, "TrainingJobLog")]
[OutputType(typeof(void))]
public sealed class WriteTrainingJobLogCommand : JobQueuePipelineCommand
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("JobId")]
    [ArgumentCompleter(typeof(JobIdCompleter))]
    public long? Id { get; set; }

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string Message { get; set; } = "";

    [Parameter]
    public JobLogLevel Level
    {
        get => (JobLogLevel)_level;
        set => _level = value;
    }

    // Boxed for the same reason as Initialize-JobQueue's -Durability: no engine value-type fields here.
    private object _level = JobLogLevel.Info;

    protected override void ProcessRecord()
    {
        var jobId = Id ?? FromEnvironment("JOBQUEUE_JOB_ID");
        if (jobId is null)
        {
            ThrowTerminatingError(ErrorFactory.Create("JobIdRequired", ErrorCategory.InvalidArgument,
                "Give -Id, or call this inside a running job, where $env:JOBQUEUE_JOB_ID names the job.", null));
            return;
        }
        int? attempt = FromEnvironment("JOBQUEUE_JOB_ID") == jobId ? (int?)FromEnvironment("JOBQUEUE_ATTEMPT") : null;
        var id = jobId.Value;
        Try(() => Client.Log(id, Level, Message, attempt));
    }

    private static long? FromEnvironment(string name) =>
        long.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
}
