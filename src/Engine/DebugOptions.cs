namespace LayerDiffusion.Native;

/// <summary>Switches for diagnosing the engine itself, read from the environment.</summary>
public static class DebugOptions
{
    /// <summary>
    /// LD_STACKTRACE=1: internal errors (in `ld`, and in `ld verify`'s per-case failures) carry their stack trace.
    /// Not LD_DEBUG: glibc's dynamic loader reads that one and warns about values it does not know.
    /// </summary>
    public static bool ShowStackTraces => Environment.GetEnvironmentVariable("LD_STACKTRACE") is not (null or "" or "0");
}
