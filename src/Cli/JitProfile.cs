using System.Runtime;
using System.Runtime.CompilerServices;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// .NET's multicore JIT for `ld`'s computing commands (perf/RESULTS.md, "JIT tax"): each run records which methods it
/// compiled into a profile per command in a per-user cache folder; a later run reads it and compiles those methods on
/// a background core while the main thread starts, so the main thread finds them compiled (start-up, generic
/// instantiations in the libraries, small and virtual methods that <see cref="Backends.Cpu.JitWarmup"/> cannot reach;
/// the warm-up runs only when there is no profile of this build to replay). The runtime replays a module's methods only
/// when its identity matches the profile's, so an old profile is harmless. Never fails a run: a
/// folder that cannot be created or written leaves the run without a profile. JIT builds only (NativeAOT has no JIT).
/// LD_JIT_PROFILE=0 turns it off; LD_JIT_PROFILE_DIR moves the folder (default $XDG_CACHE_HOME/ld/jit, else
/// ~/.cache/ld/jit).
/// </summary>
public static class JitProfile
{
    /// <summary>
    /// Whether this run replays a profile of this build: then the warm-up thread is left off, as it only compiles the
    /// same methods again, in a worse order, on the same spare core (measured: perf/RESULTS.md).
    /// </summary>
    public static bool Replaying { get; private set; }

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
            string name = $"ld-{command}.jitprofile";
            bool ofThisBuild = IsOfThisBuild(Path.Combine(dir, name));
            ProfileOptimization.SetProfileRoot(dir);
            ProfileOptimization.StartProfile(name);
            Replaying = ofThisBuild;
            return dir;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;   // no profile this run; the run itself is unaffected
        }
    }

    /// <summary>
    /// A non-empty profile written after ld's assemblies: one from an older build replays only the unchanged modules
    /// (the runtime checks each module's identity), so that run keeps the warm-up.
    /// </summary>
    private static bool IsOfThisBuild(string profile)
    {
        var info = new FileInfo(profile);
        if (!info.Exists || info.Length == 0) return false;
        foreach (var assembly in new[] { "ld.dll", "LayerDiffusion.Native.Engine.dll" })
        {
            var built = new FileInfo(Path.Combine(AppContext.BaseDirectory, assembly));
            if (!built.Exists || built.LastWriteTimeUtc >= info.LastWriteTimeUtc) return false;
        }
        return true;
    }

    private static string? Folder()
    {
        if (Environment.GetEnvironmentVariable("LD_JIT_PROFILE_DIR") is { Length: > 0 } d) return d;
        if (Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x && Path.IsPathRooted(x)) return Path.Combine(x, "ld", "jit");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return home.Length > 0 ? Path.Combine(home, ".cache", "ld", "jit") : null;
    }
}
