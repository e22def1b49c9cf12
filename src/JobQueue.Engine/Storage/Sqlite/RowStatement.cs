using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace JobQueue.Engine.Storage.Sqlite;

/// <summary>
/// A statement that writes one job and returns its row (claim, completion, rescue), prepared
/// once and run through SQLite's C API. ADO.NET costs more here than the SQL does: it finds each
/// parameter by name on every run and reads each of the row's 26 values with two or three calls
/// that each take a reference on the statement handle. Here parameters are bound by position and
/// the values are read by plain calls on the raw handle, which the statement's owner keeps alive.
/// </summary>
internal sealed class RowStatement : IDisposable
{
    private const int SqliteInteger = 1, SqliteFloat = 2, SqliteText = 3, SqliteNull = 5;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly IntPtr _handle;
    private readonly Dictionary<string, int> _indexes = new(StringComparer.Ordinal);
    private byte[] _utf8 = new byte[128];

    public RowStatement(sqlite3 db, string sql)
    {
        _db = db;
        Check(raw.sqlite3_prepare_v2(db, sql, out _statement));
        _handle = _statement.DangerousGetHandle();
    }

    private int Index(string name)
    {
        if (!_indexes.TryGetValue(name, out var index))
        {
            index = raw.sqlite3_bind_parameter_index(_statement, name);
            if (index == 0) throw new ArgumentException($"The statement has no parameter {name}.", nameof(name));
            _indexes[name] = index;
        }
        return index;
    }

    public void Bind(string name, string? value)
    {
        var index = Index(name);
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(_statement, index));
            return;
        }
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_utf8.Length < length) _utf8 = new byte[Math.Max(length, _utf8.Length * 2)];
        var written = Encoding.UTF8.GetBytes(value, _utf8);
        Check(raw.sqlite3_bind_text(_statement, index, _utf8.AsSpan(0, written)));
    }

    public void Bind(string name, long? value)
    {
        var index = Index(name);
        Check(value is { } v ? raw.sqlite3_bind_int64(_statement, index, v) : raw.sqlite3_bind_null(_statement, index));
    }

    /// <summary>
    /// Runs the statement and returns its first row as ADO.NET's GetValues would: long, double,
    /// string or DBNull. The statement is stepped to its end: SQLite runs its WAL hook, the
    /// automatic checkpoint, only when an autocommit statement steps to its end. ADO.NET's
    /// ExecuteScalar, or a reader disposed after the first row, resets it instead, which commits
    /// without a checkpoint; a process writing only that way grew the -wal file without bound
    /// (hundreds of MB over a drain) and slowed every later write.
    /// </summary>
    public object[]? ExecuteRow()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc == raw.SQLITE_DONE) return null;
            if (rc != raw.SQLITE_ROW) SqliteException.ThrowExceptionForRC(rc, _db);
            var values = ReadRow();
            while ((rc = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
            {
            }
            if (rc != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(rc, _db);
            return values;
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    private unsafe object[] ReadRow()
    {
        var count = sqlite3_column_count(_handle);
        var values = new object[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = sqlite3_column_type(_handle, i) switch
            {
                SqliteInteger => sqlite3_column_int64(_handle, i),
                SqliteFloat => sqlite3_column_double(_handle, i),
                SqliteText => Encoding.UTF8.GetString(sqlite3_column_text(_handle, i), sqlite3_column_bytes(_handle, i)),
                SqliteNull => DBNull.Value,
                _ => Blob(i),
            };
        }
        return values;
    }

    private unsafe byte[] Blob(int i) =>
        new ReadOnlySpan<byte>(sqlite3_column_blob(_handle, i), sqlite3_column_bytes(_handle, i)).ToArray();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _db);
    }

    public void Dispose() => _statement.Dispose();

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_column_count(IntPtr statement);

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_column_type(IntPtr statement, int column);

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern long sqlite3_column_int64(IntPtr statement, int column);

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern double sqlite3_column_double(IntPtr statement, int column);

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern unsafe byte* sqlite3_column_text(IntPtr statement, int column);

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern unsafe byte* sqlite3_column_blob(IntPtr statement, int column);

    [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
    private static extern int sqlite3_column_bytes(IntPtr statement, int column);
}
