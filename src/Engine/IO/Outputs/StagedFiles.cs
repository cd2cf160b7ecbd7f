namespace LayerDiffusion.Native.IO.Outputs;

/// <summary>
/// Where outputs are staged: a hidden file beside the target (".NAME.ld-partial-XXXXXXXX"), on the same file system, so
/// the final rename is atomic. Also the folder writability probe and the test hook that makes staged writes fail.
/// </summary>
public static class StagedFiles
{
    /// <summary>Part of every staged and backup file name (what a cleanup or a test looks for).</summary>
    public const string Marker = ".ld-partial";

    private static readonly AsyncLocal<Func<string, Stream>?> Fault = new();

    /// <summary>The stream factory plans created in this async flow use instead of real files, if set (tests: a full disk).</summary>
    internal static Func<string, Stream>? FaultInjection => Fault.Value;

    /// <summary>Makes plans created in the current async flow open staged files through <paramref name="open"/> until disposed.</summary>
    internal static IDisposable InjectFaults(Func<string, Stream> open)
    {
        var previous = Fault.Value;
        Fault.Value = open;
        return new Restore(() => Fault.Value = previous);
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>A fresh name beside <paramref name="target"/> (a real path) for a staged or backup copy.</summary>
    public static string Beside(string target, string kind)
    {
        string name = Path.GetFileName(target);
        if (name.Length > 180) name = name[..180]; // stay under the usual 255-byte name limit
        return Path.Join(Path.GetDirectoryName(target), $".{name}{Marker}-{kind}-{Guid.NewGuid().ToString("N")[..8]}");
    }

    public static Stream OpenNew(string path) => new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);

    /// <summary>Null when a new file can be created (and removed) in <paramref name="folder"/>, else why not.</summary>
    public static string? WhyNotWritable(string folder)
    {
        string probe = Path.Join(folder, $".ld-write-probe{Marker}-{Guid.NewGuid().ToString("N")[..8]}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
    }
}
