using System.Management.Automation;
using JobQueue.Engine;
using JobQueue.Engine.Storage;

namespace JobQueue.Commands;

/// <summary>Creates the queue's database, or upgrades its schema, and reports what it found.</summary>
[Cmdlet(VerbsData.Initialize, "JobQueue", SupportsShouldProcess = true)]
[OutputType(typeof(JobQueueInfo))]
public sealed class InitializeJobQueueCommand : JobQueueCommand
{
    /// <summary>
    /// Normal (default): WAL with synchronous=NORMAL, safe against process crashes; a power loss
    /// may lose the last commits. Full: every commit reaches the disk before it returns.
    /// </summary>
    [Parameter]
    public Durability? Durability
    {
        get => (Durability?)_durability;
        set => _durability = value;
    }

    // Engine value types are kept boxed: a field of such a type would make PowerShell load the
    // engine while it scans this assembly, before the private load context is in place.
    private object? _durability;

    protected override void ProcessRecord()
    {
        if (!ShouldProcess(ResolvedDatabase, "Create or upgrade the job queue")) return;
        var store = Client.Store;
        if (_durability is not null)
        {
            Must(() => { store.SetDurability(Durability!.Value); return 0; });
        }
        WriteObject(Must(store.Describe));
    }
}
