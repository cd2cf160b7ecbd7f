using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Interop;

/// <summary>
/// A shared library opened with <see cref="NativeLibrary"/> and its exports resolved by name. No ManagedCuda and no
/// DllImport probing: the candidates are tried in order (an override variable first), and a missing library or
/// symbol is reported with every name tried, so "why is there no GPU" has a readable answer.
/// </summary>
internal sealed class NativeLib
{
    private NativeLib(string path, nint handle)
    {
        Path = path;
        Handle = handle;
    }

    public string Path { get; }
    public nint Handle { get; }

    /// <summary>Opens the first loadable candidate; <paramref name="overrideVariable"/> (a full path) wins when set.</summary>
    public static NativeLib? TryOpen(string overrideVariable, IReadOnlyList<string> candidates, out string why)
    {
        var tried = new List<string>();
        string? forced = Environment.GetEnvironmentVariable(overrideVariable);
        IEnumerable<string> names = string.IsNullOrEmpty(forced) ? candidates : [forced];
        foreach (var name in names)
        {
            if (NativeLibrary.TryLoad(name, out nint h))
            {
                why = "";
                return new NativeLib(name, h);
            }
            tried.Add(name);
        }
        why = $"could not load {string.Join(" or ", tried)}" + (string.IsNullOrEmpty(forced) ? $" (set {overrideVariable} to its path)" : $" (from {overrideVariable})");
        return null;
    }

    /// <summary>The first export found among <paramref name="names"/> (newer versioned names first).</summary>
    public nint Export(params string[] names)
    {
        foreach (var n in names)
            if (NativeLibrary.TryGetExport(Handle, n, out nint p)) return p;
        throw new LdException($"{Path} has no export {string.Join(" / ", names)} (driver or library too old?)");
    }

    /// <summary>An optional export: its address, or 0 when the library does not have it.</summary>
    public nint TryExport(string name) => NativeLibrary.TryGetExport(Handle, name, out nint p) ? p : 0;
}
