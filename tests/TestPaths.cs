namespace LayerDiffusion.Native.Tests;

/// <summary>Where the tests find their data: LD_GOLDEN_DIR, else ../shared/golden beside the repository root.</summary>
public static class TestPaths
{
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LayerDiffusion.Native.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
        }
    }

    public static string GoldenDir
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("LD_GOLDEN_DIR");
            return Path.GetFullPath(string.IsNullOrEmpty(env) ? Path.Combine(RepoRoot, "..", "shared", "golden") : env);
        }
    }

    /// <summary>The SD1.5 golden set: LD_GOLDEN_SD15_DIR, else ../shared/golden-sd15 beside the repository root.</summary>
    public static string GoldenSd15Dir
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("LD_GOLDEN_SD15_DIR");
            return Path.GetFullPath(string.IsNullOrEmpty(env) ? Path.Combine(RepoRoot, "..", "shared", "golden-sd15") : env);
        }
    }

    /// <summary>Every golden set the tests run (SDXL, SD1.5).</summary>
    public static IReadOnlyList<string> GoldenSets => [GoldenDir, GoldenSd15Dir];

    public static string VocabPath => Path.GetFullPath(Path.Combine(GoldenDir, "..", "vocab", "bpe_simple_vocab_16e6.txt.gz"));

    public static string Golden(string file) => Path.Combine(GoldenDir, file);

    public static string GoldenSd15(string file) => Path.Combine(GoldenSd15Dir, file);

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "ld-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(d);
        return d;
    }
}
