using Npgsql;
using NpgsqlTypes;

namespace JobQueue.Engine.Storage.Postgres;

internal static class NpgsqlCommandExtensions
{
    /// <summary>Adds a parameter; null becomes SQL NULL, typed by the statement.</summary>
    public static NpgsqlCommand Arg(this NpgsqlCommand cmd, string name, object? value)
    {
        cmd.Parameters.Add(new NpgsqlParameter(name, value ?? DBNull.Value));
        return cmd;
    }

    /// <summary>Adds a parameter of an explicit type (arrays, and times that may be null).</summary>
    public static NpgsqlCommand Arg(this NpgsqlCommand cmd, string name, object? value, NpgsqlDbType type)
    {
        cmd.Parameters.Add(Typed(name, value, type));
        return cmd;
    }

    /// <summary>As for a command: a parameter of one statement of a batch.</summary>
    public static NpgsqlBatchCommand Arg(this NpgsqlBatchCommand cmd, string name, object? value, NpgsqlDbType type)
    {
        cmd.Parameters.Add(Typed(name, value, type));
        return cmd;
    }

    private static NpgsqlParameter Typed(string name, object? value, NpgsqlDbType type) => new(name, type) { Value = value ?? DBNull.Value };
}

/// <summary>PostgreSQL and network failures as errors a user can act on; messages name the database by its masked display name.</summary>
internal static class PostgresErrors
{
    public static JobQueueException Translate(Exception ex, string database)
    {
        if (ex is PostgresException pg)
        {
            return pg.SqlState switch
            {
                PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification => new JobQueueException(ErrorKind.DatabaseUnavailable,
                    $"PostgreSQL refused the login to '{database}': {pg.MessageText}. Check the user, and the password (in the URI, PGPASSWORD or ~/.pgpass).",
                    database, ex, "PostgresLoginFailed"),
                PostgresErrorCodes.InvalidCatalogName => new JobQueueException(ErrorKind.DatabaseUnavailable,
                    $"{pg.MessageText} on the server of '{database}'. Create it first (createdb, or CREATE DATABASE).", database, ex, "PostgresDatabaseNotFound"),
                PostgresErrorCodes.InsufficientPrivilege => new JobQueueException(ErrorKind.DatabaseNotWritable,
                    $"The PostgreSQL role lacks a privilege on '{database}': {pg.MessageText}. JobQueue needs SELECT, INSERT, UPDATE and DELETE on its tables.",
                    database, ex, "PostgresPermissionDenied"),
                PostgresErrorCodes.DiskFull => new JobQueueException(ErrorKind.DatabaseNotWritable,
                    $"The PostgreSQL server of '{database}' is out of disk space; nothing was written.", database, ex),
                PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected => new JobQueueException(ErrorKind.DatabaseUnavailable,
                    $"A concurrent change on '{database}' conflicted with this one; nothing was changed. Try again.", database, ex),
                PostgresErrorCodes.TooManyConnections => new JobQueueException(ErrorKind.DatabaseUnavailable,
                    $"The PostgreSQL server of '{database}' has no free connections: {pg.MessageText}.", database, ex, "PostgresUnreachable"),
                _ when pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57P", StringComparison.Ordinal) => new JobQueueException(ErrorKind.DatabaseUnavailable,
                    $"Lost the PostgreSQL server of '{database}': {pg.MessageText}.", database, ex, "PostgresUnreachable"),
                _ => new JobQueueException(ErrorKind.DatabaseUnavailable, $"PostgreSQL error on '{database}': {pg.SqlState} {pg.MessageText}", database, ex),
            };
        }
        if (ex.Message.Contains("password", StringComparison.OrdinalIgnoreCase))
        {
            return new JobQueueException(ErrorKind.DatabaseUnavailable,
                $"Cannot log in to '{database}': {ex.Message}. Give the password in the URI, PGPASSWORD or ~/.pgpass.", database, ex, "PostgresLoginFailed");
        }
        var why = ex.InnerException is { } inner && inner.Message != ex.Message ? $"{ex.Message} ({inner.Message})" : ex.Message;
        return new JobQueueException(ErrorKind.DatabaseUnavailable,
            $"Cannot reach the PostgreSQL server of '{database}': {why}", database, ex, "PostgresUnreachable");
    }
}
