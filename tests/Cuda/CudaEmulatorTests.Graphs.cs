using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>
/// CUDA graphs of the per-step UNet call (Backends/Cuda/CudaForwardGraph) and the cross-attention K/V cache
/// (Backends/ConstantProducts) on the emulated GPU, whose fake driver
/// records a capturing stream's work and replays it on cuGraphLaunch, and with LD_EMU_GRAPH_REPORT=1 prints one line
/// per graph launch (its nodes and kernels, and the kernels launched directly since the previous graph launch) and
/// the kernels and cuBLASLt / cuDNN calls run in all.
/// </summary>
/// <remarks>
/// Its own class (and emulator build) so that xunit runs it beside CudaEmulatorTests: tests of one class run one after
/// another, and these two classes hold most of the suite's emulated minutes.
/// </remarks>
public sealed class CudaGraphEmulatorTests(CudaEmulatorFixture emu, ITestOutputHelper output) : IClassFixture<CudaEmulatorFixture>
{
    private static string LdDll => Path.Combine(AppContext.BaseDirectory, "ld.dll");
    private Dictionary<string, string> EmulatorEnv => new() { ["LD_CUDA_PATH"] = emu.Library!, ["LD_CUBLASLT_PATH"] = emu.Library!, ["LD_CUDNN_PATH"] = emu.Library! };
    private static (int Code, string Output) Run(string exe, string[] args, Dictionary<string, string>? env, TimeSpan timeout) =>
        CudaEmulatorTests.Run(exe, args, env, timeout);

    private static readonly Regex GraphLaunch = new(@"^emu graph launch: nodes (\d+) kernels (\d+) direct kernels since the last launch (\d+)$", RegexOptions.Multiline);
    private static readonly Regex KernelsRun = new(@"^emu graphs: (\d+) kernels run, (\d+) library calls run$", RegexOptions.Multiline);

    /// <summary>
    /// 6 steps with Stop At 0.5 (the patched UNet for steps 1-3, the original for 4-6: two graph keys) at fp16, with
    /// graphs and the K/V cache and without either (LD_CUDA_GRAPHS=0 LD_KV_CACHE=0): the same PNG to the byte and the
    /// same kernels run in all; the cache saves 2 GEMMs per cross-attention layer of the demo UNet at every step but
    /// each UNet's first (the two UNets' attention weights differ: the layer patch changes them). With graphs, each key warms up eagerly
    /// (step 1 / 4), captures and launches (step 2 / 5) and replays (step 3 / 6): 4 graph launches; a replayed step
    /// launches exactly one kernel itself (the fp16 → fp32 cast of ε's read-back); a graph holds exactly the kernels
    /// of its eager warm-up step (the launches between the first graph's replay and the second graph's first launch are
    /// that replay's read-back cast, the warm-up's UNet call and its read-back cast).
    /// </summary>
    [EmulatorFact]
    public void GraphReplaysGiveTheEagerImageAndRecaptureWhenTheUnetChanges()
    {
        var dir = Directory.CreateTempSubdirectory("ld-emu-graphs-").FullName;
        try
        {
            string[] common = ["generate", "--demo", "--rng", "gpu", "--steps", "6", "--stop-at", "0.5", "--precision", "fp16", "--device", "cuda"];
            var env = new Dictionary<string, string>(EmulatorEnv) { ["LD_EMU_GRAPH_REPORT"] = "1" };
            var (onCode, onText) = Run("dotnet", [LdDll, .. common, "--out", Path.Combine(dir, "on.png")], env, TimeSpan.FromMinutes(10));
            output.WriteLine(onText);
            Assert.Equal(0, onCode);
            var (offCode, offText) = Run("dotnet", [LdDll, .. common, "--out", Path.Combine(dir, "off.png")],
                new Dictionary<string, string>(env) { ["LD_CUDA_GRAPHS"] = "0", ["LD_KV_CACHE"] = "0" }, TimeSpan.FromMinutes(10));
            output.WriteLine(offText);
            Assert.Equal(0, offCode);

            Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "off.png")), File.ReadAllBytes(Path.Combine(dir, "on.png")));
            Assert.Contains("CUDA graphs per UNet step", onText);
            Assert.Contains("no CUDA graphs", offText);
            Assert.Empty(GraphLaunch.Matches(offText));
            Assert.Equal(KernelsRun.Match(offText).Groups[1].Value, KernelsRun.Match(onText).Groups[1].Value);
            var u = Native.Models.Synthetic.DemoModels.Unet;
            int crossAttentionLayers = u.InputDepths.Sum() + u.MiddleDepth + u.OutputDepths.Sum();
            long librarySaved = long.Parse(KernelsRun.Match(offText).Groups[2].Value) - long.Parse(KernelsRun.Match(onText).Groups[2].Value);
            Assert.Equal(2L * crossAttentionLayers * (6 - 2), librarySaved);
            Assert.DoesNotContain("CUDA graphs off", onText); // no capture fell back to eager

            var launches = GraphLaunch.Matches(onText).Select(m => (Nodes: long.Parse(m.Groups[1].Value), Kernels: long.Parse(m.Groups[2].Value),
                Direct: long.Parse(m.Groups[3].Value))).ToArray();
            Assert.Equal(4, launches.Length);
            Assert.Equal(launches[0].Nodes, launches[1].Nodes); // the first graph, captured and replayed
            Assert.Equal(launches[2].Nodes, launches[3].Nodes); // the second graph
            Assert.Equal(launches[0].Kernels, launches[1].Kernels);
            Assert.Equal(launches[2].Kernels, launches[3].Kernels);
            Assert.Equal(1, launches[1].Direct);
            Assert.Equal(1, launches[3].Direct);
            Assert.Equal(launches[2].Kernels + 2, launches[2].Direct);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// SD1.5 from foreground to background (attention sharing with control signals) on the emulated GPU: the golden
    /// end-to-end case passes and every UNet call's graph is captured. The units' control addends are computed when the
    /// run is set up; computed lazily inside the first forward they were kept from the graph's warm-up memory, and the
    /// capture (which found them cached) then asked for memory its warm-up had not, so every step ran eagerly.
    /// </summary>
    [EmulatorFact]
    public void Sd15ControlledLayerCapturesItsGraphs()
    {
        var (code, text) = Run("dotnet", [LdDll, "verify", "--golden", TestPaths.GoldenSd15Dir, "--device", "cuda", "--precision", "fp32",
            "--cases", "sd15_e2e_fg2bg"], EmulatorEnv, TimeSpan.FromMinutes(10));
        output.WriteLine(text);
        Assert.Contains("CUDA graphs per UNet step", text);
        Assert.Matches(@"\b[1-9]\d* passed, 0 failed, 0 skipped", text);
        Assert.DoesNotContain("CUDA graphs off", text);
        Assert.Equal(0, code);
    }

    /// <summary>
    /// One recorder across shapes (`ld bench unet_call`, the tiny UNet at two sizes and batches 1 and 2): every new
    /// shape drops the last graph and captures its own (the eager warm-up, the capture and one replay per shape: two
    /// launches of one graph each, the first after the host ran that shape's warm-up) and no capture falls back to
    /// eager.
    /// </summary>
    [EmulatorFact]
    public void ANewShapeDropsTheGraphAndCapturesAgain()
    {
        var env = new Dictionary<string, string>(EmulatorEnv) { ["LD_EMU_GRAPH_REPORT"] = "1" };
        var (code, text) = Run("dotnet", [LdDll, "bench", "--device", "cuda", "--tiny", "--precision", "fp16", "--components", "unet_call",
            "--size", "64x64,64x96", "--batch", "1,2", "--warmup", "0", "--runs", "1"], env, TimeSpan.FromMinutes(10));
        output.WriteLine(text);
        Assert.Equal(0, code);
        Assert.DoesNotContain("CUDA graphs off", text);
        Assert.DoesNotContain("capture failed", text);
        var launches = GraphLaunch.Matches(text).Select(m => (Nodes: long.Parse(m.Groups[1].Value), Kernels: long.Parse(m.Groups[2].Value),
            Direct: long.Parse(m.Groups[3].Value))).ToArray();
        Assert.Equal(8, launches.Length); // 4 shapes × (capture + launch, replay)
        for (int shape = 0; shape < 4; shape++)
        {
            var (captured, replayed) = (launches[2 * shape], launches[2 * shape + 1]);
            // Before a shape's first launch the host ran its eager calls and the graph's warm-up: at least the kernels
            // the new graph holds (a graph of the old shape replayed would follow the last replay's 1 kernel).
            Assert.True(captured.Direct >= captured.Kernels, $"shape {shape}: {captured.Direct} direct kernels before the first launch of a {captured.Kernels}-kernel graph");
            Assert.Equal(captured.Nodes, replayed.Nodes);
            Assert.Equal(1, replayed.Direct); // the replay: only ε's read-back cast launched by the host
        }
    }
}
