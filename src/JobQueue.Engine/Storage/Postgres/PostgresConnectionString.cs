using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace JobQueue.Engine.Storage.Postgres;

/// <summary>
/// Turns what a user gives to -Database (an Npgsql connection string, or a libpq-style
/// postgres:// / postgresql:// URI) into Npgsql settings, plus a display form with any password
/// replaced by *** for the Database property, messages and Describe output.
/// A password missing from the string comes, as with libpq, from PGPASSWORD, then PGPASSFILE or
/// ~/.pgpass (Npgsql reads them when it connects).
/// </summary>
public sealed partial class PostgresConnectionString
{
    public const string Mask = "***";

    private PostgresConnectionString(NpgsqlConnectionStringBuilder settings, string display)
    {
        Settings = settings;
        Display = display;
    }

    /// <summary>The settings Npgsql connects with, password included.</summary>
    public NpgsqlConnectionStringBuilder Settings { get; }

    /// <summary>What the user gave, with passwords masked; identical to the input when it holds no password.</summary>
    public string Display { get; }

    [GeneratedRegex(@"^\s*postgres(ql)?://", RegexOptions.IgnoreCase)]
    private static partial Regex UriScheme();

    [GeneratedRegex(@"(^|;)\s*(host|server)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex HostKeyword();

    // Password, Pwd and SSL Password values, quoted or not, in a key=value string.
    [GeneratedRegex(@"(?<key>(^|;)\s*(password|pwd|ssl\s*password)\s*=\s*)(?<value>""(?:[^""]|"""")*""|'(?:[^']|'')*'|[^;]*)", RegexOptions.IgnoreCase)]
    private static partial Regex KeyValueSecret();

    public static bool IsPostgres(string database) =>
        UriScheme().IsMatch(database) || HostKeyword().IsMatch(database);

    public static PostgresConnectionString Parse(string database)
    {
        ArgumentNullException.ThrowIfNull(database);
        return UriScheme().IsMatch(database) ? ParseUri(database.Trim()) : ParseKeyValue(database);
    }

    /// <summary>The display form of any PostgreSQL database string, even one that does not parse.</summary>
    public static string MaskSecrets(string database) =>
        UriScheme().IsMatch(database) ? MaskUri(database.Trim()) : KeyValueSecret().Replace(database, m => m.Groups["key"].Value + Mask);

    private static PostgresConnectionString ParseKeyValue(string database)
    {
        var display = MaskSecrets(database);
        NpgsqlConnectionStringBuilder settings;
        try
        {
            settings = new NpgsqlConnectionStringBuilder(database);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            throw Invalid(display, Scrub(ex.Message, KeyValueSecret().Matches(database).Select(m => m.Groups["value"].Value.Trim())));
        }
        if (string.IsNullOrWhiteSpace(settings.Host))
        {
            throw Invalid(display, "it names no Host.");
        }
        return new PostgresConnectionString(settings, display);
    }

    // postgresql://[user[:password]@][host][:port][,host[:port]...][/dbname][?param=value&...]
    private static PostgresConnectionString ParseUri(string uri)
    {
        var display = MaskUri(uri);
        var rest = uri[(uri.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var hash = rest.IndexOf('#');
        if (hash >= 0) rest = rest[..hash];
        var query = "";
        var q = rest.IndexOf('?');
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }
        var path = "";
        var slash = rest.IndexOf('/');
        if (slash >= 0)
        {
            path = rest[(slash + 1)..];
            rest = rest[..slash];
        }
        string? userInfo = null;
        var at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            userInfo = rest[..at];
            rest = rest[(at + 1)..];
        }

        var settings = new NpgsqlConnectionStringBuilder();
        try
        {
            if (userInfo is not null)
            {
                var colon = userInfo.IndexOf(':');
                var user = Decode(colon >= 0 ? userInfo[..colon] : userInfo);
                if (user.Length > 0) settings.Username = user;
                // An empty password ("user:@host") means none, so PGPASSWORD and ~/.pgpass still apply.
                if (colon >= 0 && colon < userInfo.Length - 1) settings.Password = Decode(userInfo[(colon + 1)..]);
            }
            if (rest.Length > 0) SetHosts(settings, rest, display);
            if (path.Length > 0) settings.Database = Decode(path);
            foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0) throw Invalid(display, $"the parameter '{Decode(pair)}' has no value.");
                SetParameter(settings, Decode(pair[..eq]), Decode(pair[(eq + 1)..]), display);
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            throw Invalid(display, Scrub(ex.Message, new[] { settings.Password, settings.SslPassword }));
        }
        if (string.IsNullOrWhiteSpace(settings.Host))
        {
            // libpq's default is the local server; Npgsql needs a host named.
            settings.Host = Environment.GetEnvironmentVariable("PGHOST") is { Length: > 0 } pgHost ? pgHost : "localhost";
        }
        return new PostgresConnectionString(settings, display);
    }

    private static void SetHosts(NpgsqlConnectionStringBuilder settings, string hostSpec, string display)
    {
        var hosts = new List<(string Host, int? Port)>();
        foreach (var part in hostSpec.Split(','))
        {
            string host;
            string? port = null;
            if (part.StartsWith('['))
            {
                var close = part.IndexOf(']');
                if (close < 0) throw Invalid(display, $"the host '{part}' has no closing ']'.");
                host = part[1..close];
                var after = part[(close + 1)..];
                if (after.StartsWith(':')) port = after[1..];
                else if (after.Length > 0) throw Invalid(display, $"unexpected '{after}' after the host '{host}'.");
            }
            else
            {
                var colon = part.LastIndexOf(':');
                host = colon >= 0 ? part[..colon] : part;
                if (colon >= 0) port = part[(colon + 1)..];
            }
            int? portNumber = null;
            if (!string.IsNullOrEmpty(port))
            {
                if (!int.TryParse(port, out var p) || p is < 1 or > 65535) throw Invalid(display, $"'{port}' is not a port number.");
                portNumber = p;
            }
            hosts.Add((Decode(host), portNumber));
        }
        if (hosts.Count == 1)
        {
            if (hosts[0].Host.Length > 0) settings.Host = hosts[0].Host;
            if (hosts[0].Port is { } single) settings.Port = single;
            return;
        }
        settings.Host = string.Join(",", hosts.Select(h => h.Port is { } p ? $"{h.Host}:{p}" : h.Host));
    }

    // The libpq URI parameters people use, mapped to Npgsql's; other Npgsql keywords pass through.
    private static void SetParameter(NpgsqlConnectionStringBuilder settings, string key, string value, string display)
    {
        switch (key.ToLowerInvariant())
        {
            case "host": settings.Host = value; break;
            case "port": settings.Port = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "user": settings.Username = value; break;
            case "password": settings.Password = value; break;
            case "dbname": settings.Database = value; break;
            case "passfile": settings.Passfile = value; break;
            case "application_name": settings.ApplicationName = value; break;
            case "connect_timeout": settings.Timeout = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "options": settings.Options = value; break;
            case "sslrootcert": settings.RootCertificate = value; break;
            case "sslcert": settings.SslCertificate = value; break;
            case "sslkey": settings.SslKey = value; break;
            case "sslpassword": settings.SslPassword = value; break;
            case "target_session_attrs": settings["Target Session Attributes"] = value; break;
            case "sslmode":
                if (!Enum.TryParse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var mode))
                {
                    throw Invalid(display, $"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full.");
                }
                settings.SslMode = mode;
                break;
            default:
                try
                {
                    settings[key] = value;
                }
                catch (ArgumentException)
                {
                    throw Invalid(display, $"'{key}' is not a PostgreSQL connection parameter that JobQueue knows.");
                }
                break;
        }
    }

    private static string MaskUri(string uri)
    {
        var sb = new StringBuilder(uri);
        var start = uri.IndexOf("://", StringComparison.Ordinal) + 3;
        var end = uri.IndexOfAny(new[] { '/', '?', '#' }, start);
        if (end < 0) end = uri.Length;
        var at = uri.LastIndexOf('@', end - 1, end - start);
        var masked = uri;
        if (at > start)
        {
            var colon = uri.IndexOf(':', start, at - start);
            if (colon >= 0) masked = uri[..(colon + 1)] + Mask + uri[at..];
        }
        // password=... and sslpassword=... in the query part.
        return Regex.Replace(masked, @"(?<=[?&](ssl)?password=)[^&#]*", Mask, RegexOptions.IgnoreCase);
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text);

    /// <summary>Removes secrets that a parser echoed into its message.</summary>
    private static string Scrub(string message, IEnumerable<string?> secrets)
    {
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrEmpty(secret)) message = message.Replace(secret, Mask, StringComparison.Ordinal);
        }
        return message;
    }

    private static JobQueueException Invalid(string display, string why) => new(ErrorKind.InvalidArgument,
        $"'{display}' is not a valid PostgreSQL connection string or URI: {why}", display, code: "InvalidConnectionString");
}
