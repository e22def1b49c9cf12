using System.Management.Automation;
using JobQueue.Engine;
using JobQueue.Engine.Storage;
using JobQueue.Infrastructure;

namespace JobQueue.Commands;

/// <summary>
/// What every JobQueue cmdlet shares: -Database, the store behind it, and turning engine
/// failures into error records. Per-item failures are non-terminating; a database that cannot be
/// opened stops the command.
/// </summary>
public abstract class JobQueueCommand : PSCmdlet
{
    private string? _clientFor;
    private JobClient? _client;

    /// <summary>
    /// An SQLite file path, or a PostgreSQL connection string or URI. Defaults to
    /// $env:JOBQUEUE_DATABASE, else jobs.db in the per-user data folder.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public virtual string? Database { get; set; }

    /// <summary>The database this command works on, with a relative path resolved against the current location.</summary>
    protected string ResolvedDatabase => Must(() => ResolveDatabase(Database));

    internal string ResolveDatabase(string? database)
    {
        var target = string.IsNullOrWhiteSpace(database) ? DatabaseLocator.DefaultDatabase() : database;
        return JobStores.IsPostgres(target)
            ? target
            : FileSystemPath(target, "database", ErrorKind.DatabaseNotWritable, ErrorKind.DatabaseNotWritable.ToString());
    }

    /// <summary>
    /// A PowerShell path as a file-system path. Paths of other providers (Env:, Function:,
    /// Variable:) are refused: their provider path is a bare name that .NET would then take
    /// relative to the process's working folder, not the current location.
    /// </summary>
    internal string FileSystemPath(string path, string what, ErrorKind kind, string code)
    {
        var resolved = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
        if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
        {
            throw new JobQueueException(kind,
                $"The {what} '{path}' is on the {provider.Name} drive, not in the file system; give a file path.", path, code: code);
        }
        return resolved;
    }

    /// <summary>The engine for the current -Database; opened once per process and database.</summary>
    protected JobClient Client
    {
        get
        {
            var database = ResolvedDatabase;
            try
            {
                if (_client is null || _clientFor != database || !ReferenceEquals(_client.Store, JobStores.Get(database)))
                {
                    _client = new JobClient(JobStores.Get(database));
                    _clientFor = database;
                }
            }
            catch (JobQueueException ex)
            {
                ThrowTerminatingError(ErrorFactory.From(ex));
            }
            return _client!;
        }
    }

    /// <summary>Runs one item's work; a failure becomes a non-terminating error so the pipeline goes on.</summary>
    protected void Try(Action action)
    {
        try
        {
            action();
        }
        catch (JobQueueException ex) when (!IsDatabaseFailure(ex))
        {
            WriteError(ErrorFactory.From(ex));
        }
        catch (JobQueueException ex)
        {
            ThrowTerminatingError(ErrorFactory.From(ex));
        }
    }

    /// <summary>Runs work whose failure means the whole command cannot go on (bad arguments, no database).</summary>
    protected T Must<T>(Func<T> func)
    {
        try
        {
            return func();
        }
        catch (JobQueueException ex)
        {
            ThrowTerminatingError(ErrorFactory.From(ex));
            throw; // unreachable
        }
    }

    private static bool IsDatabaseFailure(JobQueueException ex) =>
        ex.Kind is ErrorKind.DatabaseNotWritable or ErrorKind.NotAJobQueueDatabase or ErrorKind.SchemaTooNew or ErrorKind.DatabaseUnavailable;

    /// <summary>
    /// A -Name wildcard as a LIKE pattern for the store and, when it has [...] sets, the PowerShell
    /// pattern that finishes the match: LIKE has no sets, so the store gets the text before the
    /// first set followed by '%' (a superset). An invalid pattern such as '[' stops the command.
    /// MatchesNothing: the pattern needs more characters than a job name can have (SQLite would
    /// also refuse a LIKE pattern that long).
    /// </summary>
    internal (string? Like, WildcardPattern? Pattern, bool MatchesNothing) NameFilter(string? wildcard)
    {
        if (string.IsNullOrEmpty(wildcard)) return (null, null, false);
        var pattern = ParseWildcard(wildcard);
        if (ShortestMatch(wildcard) > JobClient.MaxNameLength) return (null, null, true);
        var set = IndexOfSet(wildcard);
        return set < 0 ? (ToLike(wildcard), null, false) : ((ToLike(wildcard[..set]) ?? "") + "%", pattern, false);
    }

    /// <summary>
    /// A case-insensitive wildcard pattern, parsed now: an invalid one such as '[' stops the
    /// command with InvalidWildcard instead of failing later, inside a match, as a raw exception.
    /// </summary>
    internal WildcardPattern ParseWildcard(string wildcard)
    {
        var pattern = WildcardPattern.Get(wildcard, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
        try
        {
            pattern.IsMatch(""); // parses the pattern
        }
        catch (WildcardPatternException ex)
        {
            ThrowTerminatingError(ErrorFactory.Create("InvalidWildcard", ErrorCategory.InvalidArgument,
                $"'{wildcard}' is not a valid wildcard pattern: {ex.Message} Escape a literal '[' as '`['.", wildcard));
        }
        return pattern;
    }

    private static int IndexOfSet(string wildcard)
    {
        for (var i = 0; i < wildcard.Length; i++)
        {
            if (wildcard[i] == '`') i++;
            else if (wildcard[i] == '[') return i;
        }
        return -1;
    }

    /// <summary>How many characters a name needs to match a (valid) wildcard: '*' none, a [...] set one.</summary>
    private static int ShortestMatch(string wildcard)
    {
        var length = 0;
        for (var i = 0; i < wildcard.Length; i++)
        {
            switch (wildcard[i])
            {
                case '*':
                    continue;
                case '`':
                    i++;
                    break;
                case '[':
                    while (i + 1 < wildcard.Length && wildcard[i + 1] != ']') i += wildcard[i + 1] == '`' ? 2 : 1;
                    i++;
                    break;
            }
            length++;
        }
        return length;
    }

    /// <summary>Translates a PowerShell wildcard into a SQL LIKE pattern with '\' as escape.</summary>
    internal static string? ToLike(string? wildcard)
    {
        if (string.IsNullOrEmpty(wildcard)) return null;
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < wildcard.Length; i++)
        {
            var c = wildcard[i];
            switch (c)
            {
                case '`' when i + 1 < wildcard.Length:
                    AppendLiteral(sb, wildcard[++i]);
                    break;
                case '*':
                    // One '%' for a run of '*': the same match, and SQLite limits a pattern's length.
                    if (sb.Length == 0 || sb[^1] != '%' || (sb.Length > 1 && sb[^2] == '\\')) sb.Append('%');
                    break;
                case '?':
                    sb.Append('_');
                    break;
                default:
                    AppendLiteral(sb, c);
                    break;
            }
        }
        return sb.ToString();

        static void AppendLiteral(System.Text.StringBuilder sb, char c)
        {
            if (c is '%' or '_' or '\\') sb.Append('\\');
            sb.Append(c);
        }
    }
}

/// <summary>Cmdlets that act on existing objects take -Database from the piped object, so a job goes back to its own queue.</summary>
public abstract class JobQueuePipelineCommand : JobQueueCommand
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public override string? Database { get; set; }
}
