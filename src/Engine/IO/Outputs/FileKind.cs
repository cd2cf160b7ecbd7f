using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.IO.Outputs;

public enum FileKind { Missing, Regular, Folder, Special }

/// <summary>
/// What a path names: .NET reports devices, pipes and sockets on Unix as ordinary files (length 0), but an output
/// must never replace one (`--out /dev/null` run as root would put a PNG where the device was). On Linux this asks
/// stat(2) for the file type; elsewhere anything that is not a folder counts as a regular file.
/// </summary>
public static unsafe partial class FileKinds
{
    public static FileKind Of(string path)
    {
        if (Directory.Exists(path)) return FileKind.Folder;
        if (!File.Exists(path)) return FileKind.Missing;
        if (!OperatingSystem.IsLinux()) return FileKind.Regular;
        uint? mode = Mode(path);
        return mode is null || (mode.Value & 0xF000) == 0x8000 ? FileKind.Regular : FileKind.Special;
    }

    /// <summary>st_mode from stat(2), or null where the layout of struct stat is not known here or the call fails.</summary>
    private static uint? Mode(string path)
    {
        // Offset of st_mode in struct stat: x86-64 puts st_nlink (8 bytes) before it, the generic layout (arm64) after it.
        int offset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 24,
            Architecture.Arm64 => 16,
            _ => -1,
        };
        if (offset < 0) return null;
        byte* buf = stackalloc byte[512];
        try
        {
            return Stat(path, buf) == 0 ? *(uint*)(buf + offset) : null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // a C library without a stat symbol (glibc before 2.33 exports __xstat only)
        }
    }

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, byte* buf);
}
