using System.Runtime.InteropServices;

namespace JobQueue.Engine;

/// <summary>
/// Tells regular files from devices, pipes and sockets on Unix, which .NET's file APIs do not:
/// File.Exists is true for /dev/null, and replacing it (as root) would replace the device.
/// </summary>
internal static class FileKind
{
    private const int TypeMask = 0xF000;
    private const int Regular = 0x8000;
    private const int Directory = 0x4000;

    /// <summary>True when <paramref name="path"/> exists and is neither a regular file nor a folder.</summary>
    public static bool IsSpecial(string path)
    {
        if (OperatingSystem.IsWindows()) return false;
        try
        {
            // .NET's own stat shim (the one File.Exists uses). Only the mode, the second int32 of
            // its FileStatus struct, is read; the buffer is larger than any version of the struct.
            var status = new byte[512];
            if (Stat(path, status) != 0) return false;
            var type = BitConverter.ToInt32(status, 4) & TypeMask;
            return type is not (Regular or Directory);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", SetLastError = true)]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] status);
}
