using System.Management.Automation;
using JobQueue.Engine;

namespace JobQueue.Commands;

/// <summary>Copies the queue to a new SQLite file while workers keep running (one consistent snapshot).</summary>
[Cmdlet(VerbsData.Backup, "JobQueue", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class BackupJobQueueCommand : JobQueueCommand
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Replace the destination file when it exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var destination = Must(() => FileSystemPath(Destination, "backup destination", ErrorKind.InvalidArgument, "InvalidDestination"));
        var client = Client;
        if (!ShouldProcess(destination, $"Back up {client.Store.Database}")) return;
        Try(() =>
        {
            client.Backup(destination, Force);
            WriteObject(new FileInfo(destination));
        });
    }
}
