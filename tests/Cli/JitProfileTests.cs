using Xunit;
using LayerDiffusion.Native.Tests.Cuda;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// The multicore JIT profile (src/Cli/JitProfile.cs) never changes what a run does: a folder that cannot be created
/// or written, a damaged profile, or LD_JIT_PROFILE=0 all leave a normal run. Runs `ld` as its own process (the profile
/// belongs to ld's process, not to this test host). Says nothing about speed (perf/RESULTS.md measures that).
/// </summary>
public sealed class JitProfileTests
{
    /// <summary>Runs a one-step demo generation into dir with env; asserts it succeeded and wrote its image.</summary>
    private static void GeneratesNormally(string dir, Dictionary<string, string> env)
    {
        string png = Path.Combine(dir, "o.png");
        File.Delete(png);
        var (code, output) = CudaEmulatorTests.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ld.dll"), "generate", "--demo",
            "--device", "cpu", "--steps", "1", "--quiet", "--out", png], env, TimeSpan.FromMinutes(3));
        Assert.True(code == 0, output);
        Assert.True(File.Exists(png), output);
    }

    private static void InTempDir(Action<string> test)
    {
        string dir = TestPaths.TempDir();
        try { test(dir); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void AProfileIsWrittenWhereAskedAndADamagedOneIsHarmless() => InTempDir(dir =>
    {
        string profiles = Path.Combine(dir, "jit", "nested");   // created by ld
        string profile = Path.Combine(profiles, "ld-generate.jitprofile");
        GeneratesNormally(dir, new() { ["LD_JIT_PROFILE_DIR"] = profiles });
        Assert.True(File.Exists(profile), string.Join(", ", Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories)));

        byte[] recorded = File.ReadAllBytes(profile);   // cut short (as by a run killed while writing it), then garbage
        File.WriteAllBytes(profile, recorded[..(recorded.Length / 2)]);
        GeneratesNormally(dir, new() { ["LD_JIT_PROFILE_DIR"] = profiles });
        File.WriteAllBytes(profile, [1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xfe]);
        GeneratesNormally(dir, new() { ["LD_JIT_PROFILE_DIR"] = profiles });
    });

    [Fact]
    public void AFolderThatCannotBeCreatedOrWrittenLeavesTheRunWithoutAProfile() => InTempDir(dir =>
    {
        string file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "not a folder");
        GeneratesNormally(dir, new() { ["LD_JIT_PROFILE_DIR"] = Path.Combine(file, "jit") });
        Assert.Equal("not a folder", File.ReadAllText(file));

        if (OperatingSystem.IsLinux())   // a folder that exists but takes no files (even for root)
            GeneratesNormally(dir, new() { ["LD_JIT_PROFILE_DIR"] = "/proc/self" });
    });

    [Fact]
    public void OffWritesNothing() => InTempDir(dir =>
    {
        string profiles = Path.Combine(dir, "jit");
        GeneratesNormally(dir, new() { ["LD_JIT_PROFILE"] = "0", ["LD_JIT_PROFILE_DIR"] = profiles });
        Assert.False(Directory.Exists(profiles));
    });
}
