namespace LayerDiffusion.Native.IO.Outputs;

/// <summary>
/// A path with every symbolic link resolved, in every component (realpath(3) semantics), including a path whose last
/// components do not exist yet: the existing prefix is resolved and the rest appended. Two paths name the same file
/// exactly when their real paths are equal (hard links aside: the atomic writer never writes into an existing
/// file, so a hard link to an input is never changed).
/// </summary>
public static class RealPath
{
    /// <summary>Links followed in one resolution before giving up (Linux's own limit).</summary>
    private const int MaxLinks = 40;

    /// <summary>Ordinal on Linux; case-insensitive where the usual file systems are (Windows, macOS).</summary>
    public static StringComparer Comparer { get; } = OperatingSystem.IsLinux() ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;

    public static string Of(string path)
    {
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full)!;
        var pending = new Stack<string>(full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int links = 0;
        bool missing = false; // once a component does not exist, the rest is only joined
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            string next = Path.Join(current, part);
            if (!missing && LinkTarget(next) is { } target)
            {
                if (++links > MaxLinks) throw new IOException($"{path}: too many levels of symbolic links");
                // The target replaces this component; it is resolved in turn (it may hold links and '..').
                string targetRoot = Path.IsPathRooted(target) ? Path.GetPathRoot(target)! : "";
                foreach (var t in target[targetRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                    pending.Push(t);
                if (targetRoot.Length > 0) current = targetRoot;
                continue;
            }
            if (!missing && !File.Exists(next) && !Directory.Exists(next)) missing = true;
            current = next;
        }
        return current;
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static bool Same(string a, string b) => Comparer.Equals(Of(a), Of(b));
}
