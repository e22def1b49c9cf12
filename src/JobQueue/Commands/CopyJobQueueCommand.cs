using System.Management.Automation;
using JobQueue.Engine;
using JobQueue.Engine.Storage;

namespace JobQueue.Commands;

/// <summary>
/// Copies a queue's jobs (with their ids), logs and schedules into another database, such as an
/// SQLite file into PostgreSQL when a team outgrows one machine, or back. Worker registrations
/// are not copied.
/// </summary>
[Cmdlet(VerbsCommon.Copy, "JobQueue", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(QueueCopyResult))]
public sealed class CopyJobQueueCommand : JobQueueCommand
{
    /// <summary>The database to copy into: an SQLite file path, or a PostgreSQL connection string or URI.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Replace the jobs, logs and schedules that the destination already holds.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var sourceName = ResolvedDatabase;
        if (!JobStores.IsPostgres(sourceName) && !File.Exists(sourceName))
        {
            Must<int>(() => throw new JobQueueException(ErrorKind.InvalidArgument,
                $"The source database '{sourceName}' does not exist; name it with -Database.", sourceName, code: "SourceNotFound"));
        }
        var destination = ResolveDatabase(Destination);
        var action = Force
            ? $"Replace its jobs, logs and schedules with those of {JobStores.DisplayName(sourceName)}"
            : $"Copy jobs, logs and schedules from {JobStores.DisplayName(sourceName)}";
        // Nothing is opened or created before this: -WhatIf changes nothing.
        if (!ShouldProcess(JobStores.DisplayName(destination), action)) return;

        var source = Client.Store;
        var target = Must(() => JobStores.Get(destination));
        var running = Must(() => source.Statistics(null)).Running;
        if (running > 0)
        {
            WriteWarning($"{running} jobs are running in {source.Database}; they are copied as running and return to pending only when their leases expire. Stop the workers first to move a queue cleanly.");
        }
        // A refused destination is an error about this copy, not the end of the script (-ErrorAction works).
        Try(() =>
        {
            var result = QueueCopier.Copy(source, target, Force);
            WriteVerbose($"Copied {result.Jobs} jobs, {result.Logs} log lines and {result.Schedules} schedules in {result.Elapsed.TotalSeconds:0.0} s.");
            WriteObject(result);
        });
    }
}
