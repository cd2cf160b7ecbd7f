using System.Reflection;

namespace LayerDiffusion.Native;

/// <summary>Version and source commit embedded by the build (the SDK appends the git commit to the informational version).</summary>
public static class BuildInfo
{
    public static string InformationalVersion { get; } =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static string Commit
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("LD_COMMIT");
            if (!string.IsNullOrEmpty(env)) return env;
            int plus = InformationalVersion.IndexOf('+');
            return plus >= 0 ? InformationalVersion[(plus + 1)..] : "unknown";
        }
    }
}
