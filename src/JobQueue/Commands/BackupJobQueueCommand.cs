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

    // The item as the FileSystem provider gives it (as Get-Item would), so that it shows like any
    // other file: a bare FileInfo lacks the provider's members (mode, owner, size columns on Unix).
    private object BackupFile(string path)
    {
        try
        {
            var items = InvokeProvider.Item.Get(new[] { path }, force: true, literalPath: true);
            if (items.Count == 1) return items[0];
        }
        catch (RuntimeException)
        {
            // Fall through to the plain file.
        }
        return new FileInfo(path);
    }

    protected override void ProcessRecord()
    {
        var destination = Must(() => FileSystemPath(Destination, "backup destination", ErrorKind.InvalidArgument, "InvalidDestination"));
        // Ask before opening the queue: under -WhatIf a missing database must not be created.
        if (!ShouldProcess(destination, $"Back up {ResolvedDatabase}")) return;
        var client = Client;
        Try(() =>
        {
            client.Backup(destination, Force);
            WriteObject(BackupFile(destination));
        });
    }
}
