using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace JobQueue.Infrastructure;

/// <summary>
/// Loads the engine and its dependencies (Microsoft.Data.Sqlite with its native e_sqlite3, Cronos)
/// into a private AssemblyLoadContext, so other modules' versions never clash with ours and the
/// native library is found without a deps.json.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static int _registered;

    public void OnImport()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += ResolveEngine;
        }
    }

    public void OnRemove(PSModuleInfo module)
    {
        // The engine stays loaded (assemblies cannot be unloaded from the default context);
        // leaving the resolver in place lets a second Import-Module in this session work.
    }

    private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == EngineLoadContext.EngineAssemblyName ? EngineLoadContext.Instance.LoadFromAssemblyName(name) : null;
}

internal sealed class EngineLoadContext : AssemblyLoadContext
{
    public const string EngineAssemblyName = "JobQueue.Engine";

    public static readonly EngineLoadContext Instance = new(
        Path.Combine(Path.GetDirectoryName(typeof(EngineLoadContext).Assembly.Location)!, "deps"));

    private readonly string _folder;

    private EngineLoadContext(string folder) : base("JobQueue.Engine", isCollectible: false)
    {
        _folder = folder;
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(_folder, assemblyName.Name + ".dll");
        // Anything not shipped with the module (the framework itself) comes from the default context.
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        foreach (var candidate in NativeCandidates(unmanagedDllName))
        {
            if (File.Exists(candidate)) return LoadUnmanagedDllFromPath(candidate);
        }
        return IntPtr.Zero;
    }

    private IEnumerable<string> NativeCandidates(string name)
    {
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        string[] rids;
        string file;
        if (OperatingSystem.IsWindows())
        {
            rids = new[] { $"win-{arch}" };
            file = name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? name : name + ".dll";
        }
        else if (OperatingSystem.IsMacOS())
        {
            rids = new[] { $"osx-{arch}", "osx" };
            file = (name.StartsWith("lib", StringComparison.Ordinal) ? name : "lib" + name) + (name.EndsWith(".dylib", StringComparison.Ordinal) ? "" : ".dylib");
        }
        else
        {
            var musl = File.Exists("/etc/alpine-release");
            rids = musl ? new[] { $"linux-musl-{arch}", $"linux-{arch}" } : new[] { $"linux-{arch}" };
            file = (name.StartsWith("lib", StringComparison.Ordinal) ? name : "lib" + name) + (name.EndsWith(".so", StringComparison.Ordinal) ? "" : ".so");
        }
        foreach (var rid in rids)
        {
            yield return Path.Combine(_folder, "runtimes", rid, "native", file);
        }
        yield return Path.Combine(_folder, file);
    }
}
