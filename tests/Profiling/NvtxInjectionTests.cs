using LayerDiffusion.Native.Tests.Cuda;
using Xunit;
using Xunit.Abstractions;

namespace LayerDiffusion.Native.Tests.Profiling;

/// <summary>
/// Builds tests/Profiling/fake_nvtx_injection.c (a stand-in for a profiler's NVTX injection library) once, or says
/// why it cannot be built here.
/// </summary>
public sealed class FakeNvtxInjectionFixture : IDisposable
{
    public static string? Compiler => new[] { "clang-14", "gcc", "cc" }.FirstOrDefault(OnPath);

    public FakeNvtxInjectionFixture()
    {
        if (Compiler is null) return;
        _dir = TestPaths.TempDir();
        Library = Path.Combine(_dir, "libfakenvtx.so");
        var source = Path.Combine(TestPaths.RepoRoot, "tests", "Profiling", "fake_nvtx_injection.c");
        var (code, output) = CudaEmulatorTests.Run(Compiler, ["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o", Library, source, "-lpthread"], null, TimeSpan.FromMinutes(2));
        if (code != 0) throw new InvalidOperationException("building the fake NVTX injection library failed:\n" + output);
    }

    private readonly string? _dir;
    public string? Library { get; }

    public void Dispose()
    {
        if (_dir is not null && Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private static bool OnPath(string exe) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, exe)));
}

public sealed class CompilerFactAttribute : FactAttribute
{
    public CompilerFactAttribute()
    {
        if (FakeNvtxInjectionFixture.Compiler is null) Skip = "no C compiler (clang-14, gcc or cc) to build the fake NVTX injection library";
    }
}

/// <summary>
/// NVTX v3 end to end: `ld generate --demo` in a child process with NVTX_INJECTION64_PATH pointing at the fake tool,
/// which attaches through the export tables and logs every push and pop. The ranges must be balanced and nest as
/// phase ranges inside the run's range, with the network calls inside their phases.
/// </summary>
public sealed class NvtxInjectionTests(FakeNvtxInjectionFixture fake, ITestOutputHelper output) : IClassFixture<FakeNvtxInjectionFixture>, IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    private (int Code, string Output, string[] Log) Generate(Dictionary<string, string> extraEnv)
    {
        string log = Path.Combine(_dir, "nvtx.log");
        var env = new Dictionary<string, string>(extraEnv)
        {
            ["NVTX_INJECTION64_PATH"] = fake.Library!, ["FAKE_NVTX_LOG"] = log, ["LD_STACKTRACE"] = "1",
        };
        var ld = Path.Combine(AppContext.BaseDirectory, "ld.dll");
        var (code, text) = CudaEmulatorTests.Run("dotnet", [ld, "generate", "--demo", "--device", "cpu", "--steps", "3", "--out", Path.Combine(_dir, "demo.png")],
            env, TimeSpan.FromMinutes(5));
        output.WriteLine(text);
        return (code, text, File.Exists(log) ? File.ReadAllLines(log) : []);
    }

    /// <summary>A range and the ranges pushed while it was open, in order.</summary>
    private sealed record Node(string Name, List<Node> Children);

    [CompilerFact]
    public void GenerationRangesNestPhaseByPhase()
    {
        var (code, text, log) = Generate([]);
        Assert.True(code == 0, text);
        Assert.Contains("0 version 3", log);
        // The module sizes of nvtxTypes.h: CORE, CUDA, OPENCL, CUDART, CORE2, SYNC.
        foreach (var (m, size) in new[] { (1, 16), (2, 9), (3, 15), (4, 7), (5, 16), (6, 7) })
            Assert.Contains($"0 module {m} size {size}", log);
        Assert.DoesNotContain(log, l => l.Contains(" error", StringComparison.Ordinal));
        Assert.Contains(log, l => l.EndsWith(" attached", StringComparison.Ordinal));

        // Every range of the run is on one thread (the one that runs the pipeline) and the pushes and pops balance.
        var events = log.Select(l => l.Split(' ', 3)).Where(p => p[1] is "push" or "pop").ToList();
        Assert.NotEmpty(events);
        Assert.Single(events.Select(e => e[0]).Distinct());
        var root = new Node("", []);
        var stack = new Stack<Node>([root]);
        foreach (var e in events)
        {
            if (e[1] == "push")
            {
                var n = new Node(e[2], []);
                stack.Peek().Children.Add(n);
                stack.Push(n);
            }
            else
            {
                Assert.True(stack.Count > 1, "a pop without a push");
                stack.Pop();
            }
        }
        Assert.True(stack.Count == 1, $"{stack.Count - 1} ranges left open");

        var run = Assert.Single(root.Children);
        Assert.Equal("generate", run.Name);
        Assert.Equal(["text", "condition", "patch", "sample", "vae_decode", "transparent_decode"], run.Children.Select(c => c.Name));
        Node Phase(string name) => run.Children.Single(c => c.Name == name);
        // Prompt and negative, each through CLIP-L and OpenCLIP-G.
        Assert.Equal(4, Phase("text").Children.Count(c => c.Name == "text_encoder"));
        Assert.Equal(3, Phase("sample").Children.Count(c => c.Name == "unet"));   // one CFG-batched call per step
        Assert.Equal(["vae_decoder"], Phase("vae_decode").Children.Select(c => c.Name));
        var passes = Phase("transparent_decode").Children;
        Assert.NotEmpty(passes);
        Assert.All(passes, c => Assert.Equal("transparent_decoder", c.Name));
        Assert.All(run.Children.SelectMany(c => c.Children), c => Assert.Empty(c.Children));
    }

    [CompilerFact]
    public void ADecliningToolLeavesTheRunWithoutRanges()
    {
        var (code, text, log) = Generate(new() { ["FAKE_NVTX_DECLINE"] = "1" });
        Assert.True(code == 0, text);
        Assert.Contains(log, l => l.EndsWith(" declined", StringComparison.Ordinal));
        Assert.DoesNotContain(log, l => l.Contains(" push ", StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutAProfilerNothingIsLoaded()
    {
        // This test process has no NVTX_INJECTION64_PATH (and never loads libnvToolsExt without one).
        if (Environment.GetEnvironmentVariable("NVTX_INJECTION64_PATH") is { Length: > 0 }) return;   // the suite itself runs under a profiler
        Assert.False(Native.Profiling.Nvtx.Enabled);
        Assert.Contains("no profiler attached", Native.Profiling.Nvtx.Status);
        using (Native.Profiling.Nvtx.Range("nothing")) { }
    }
}
