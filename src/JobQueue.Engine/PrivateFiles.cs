namespace JobQueue.Engine;

/// <summary>
/// Folders and files that hold job configs and logs are created readable by the owner only on
/// Unix (0700 and 0600); SQLite gives its -wal and -shm files the database file's mode.
/// </summary>
internal static class PrivateFiles
{
    private const UnixFileMode OwnerFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates the folder that will hold <paramref name="path"/> when it is missing (only the last level is made owner-only, like mkdir -p -m 700).</summary>
    public static void CreateFolderOf(string path)
    {
        var folder = Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(folder) || Directory.Exists(folder)) return;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, OwnerFolder);
        }
    }

    /// <summary>Creates an empty owner-only file; fails when it exists.</summary>
    public static void CreateNewFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerFile;
        }
        using (new FileStream(path, options))
        {
        }
    }
}
