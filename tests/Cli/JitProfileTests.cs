using Xunit;
using LayerDiffusion.Native.Tests.Cuda;

namespace LayerDiffusion.Native.Tests.CliFlows;

/// <summary>
/// The multicore JIT profile (src/Cli/JitProfile.cs) never changes what a run does: a folder that cannot be created,
/// a damaged profile, or LD_JIT_PROFILE=0 all leave a normal run. Runs `ld` as its own process (the profile belongs to
/// ld's process, not to this test host). Says nothing about speed (perf/RESULTS.md measures that).
/// </summary>
public sealed class JitProfileTests
{
    private static (int Code, string Output) Generate(string dir, Dictionary<string, string> env) =>
        CudaEmulatorTests.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ld.dll"), "generate", "--demo", "--device", "cpu",
            "--steps", "1", "--quiet", "--out", Path.Combine(dir, "o.png")], env, TimeSpan.FromMinutes(3));

    [Fact]
    public void AProfileIsWrittenWhereAskedAndADamagedOneIsIgnored()
    {
        string dir = TestPaths.TempDir();
        try
        {
            string profiles = Path.Combine(dir, "jit", "nested");   // created by ld
            var (code, output) = Generate(dir, new() { ["LD_JIT_PROFILE_DIR"] = profiles });
            Assert.True(code == 0, output);
            Assert.True(File.Exists(Path.Combine(dir, "o.png")), output);
            Assert.True(File.Exists(Path.Combine(profiles, "ld-generate.jitprofile")), string.Join(", ", Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories)));

            File.WriteAllBytes(Path.Combine(profiles, "ld-generate.jitprofile"), [1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xfe]);
            File.Delete(Path.Combine(dir, "o.png"));
            (code, output) = Generate(dir, new() { ["LD_JIT_PROFILE_DIR"] = profiles });
            Assert.True(code == 0, output);
            Assert.True(File.Exists(Path.Combine(dir, "o.png")), output);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void AFolderThatCannotBeCreatedOrWrittenLeavesTheRunWithoutAProfile()
    {
        string dir = TestPaths.TempDir();
        try
        {
            string file = Path.Combine(dir, "a-file");
            File.WriteAllText(file, "not a folder");
            var (code, output) = Generate(dir, new() { ["LD_JIT_PROFILE_DIR"] = Path.Combine(file, "jit") });
            Assert.True(code == 0, output);
            Assert.True(File.Exists(Path.Combine(dir, "o.png")), output);
            Assert.Equal("not a folder", File.ReadAllText(file));

            if (!OperatingSystem.IsLinux()) return;
            File.Delete(Path.Combine(dir, "o.png"));   // a folder that exists but takes no files (even for root)
            (code, output) = Generate(dir, new() { ["LD_JIT_PROFILE_DIR"] = "/proc/self" });
            Assert.True(code == 0, output);
            Assert.True(File.Exists(Path.Combine(dir, "o.png")), output);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void OffWritesNothing()
    {
        string dir = TestPaths.TempDir();
        try
        {
            string profiles = Path.Combine(dir, "jit");
            var (code, output) = Generate(dir, new() { ["LD_JIT_PROFILE"] = "0", ["LD_JIT_PROFILE_DIR"] = profiles });
            Assert.True(code == 0, output);
            Assert.True(File.Exists(Path.Combine(dir, "o.png")), output);
            Assert.False(Directory.Exists(profiles));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
