using System.Runtime;
using System.Runtime.CompilerServices;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// .NET's multicore JIT for `ld`'s computing commands (perf/RESULTS.md, "JIT tax"): each run records which methods it
/// compiled into a profile per command in a per-user cache folder; a later run reads it and compiles those methods on
/// a background core while the main thread starts, so the main thread finds them compiled (start-up, generic
/// instantiations in the libraries, small and virtual methods that <see cref="Backends.Cpu.JitWarmup"/> cannot reach).
/// A profile from another build is ignored by the runtime (it checks each module's identity). Never fails a run: a
/// folder that cannot be created or written leaves the run without a profile. JIT builds only (NativeAOT has no JIT).
/// LD_JIT_PROFILE=0 turns it off; LD_JIT_PROFILE_DIR moves the folder (default $XDG_CACHE_HOME/ld/jit, else
/// ~/.cache/ld/jit).
/// </summary>
public static class JitProfile
{
    /// <summary>Starts recording (and, when a profile is there, replaying) for the command; returns the folder used, or null.</summary>
    public static string? Start(string command)
    {
        if (!RuntimeFeature.IsDynamicCodeCompiled) return null;
        if (Environment.GetEnvironmentVariable("LD_JIT_PROFILE") == "0") return null;
        string? dir = Folder();
        if (dir is null) return null;
        try
        {
            Directory.CreateDirectory(dir);
            ProfileOptimization.SetProfileRoot(dir);
            ProfileOptimization.StartProfile($"ld-{command}.jitprofile");
            return dir;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;   // no profile this run; the run itself is unaffected
        }
    }

    private static string? Folder()
    {
        if (Environment.GetEnvironmentVariable("LD_JIT_PROFILE_DIR") is { Length: > 0 } d) return d;
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x && Path.IsPathRooted(x)) return Path.Combine(x, "ld", "jit");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return home.Length > 0 ? Path.Combine(home, ".cache", "ld", "jit") : null;
    }
}
