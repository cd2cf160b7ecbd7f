using LayerDiffusion.Native.Cli;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Pipelines.Memory;
using LayerDiffusion.Native.Tests.Cuda;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// A generation too large for the machine is refused before anything is allocated, from a lower bound on its working
/// set; past that bound a real out-of-memory is one clear error, never an internal one.
/// </summary>
[Collection(ProcessMemoryCollection.Name)]
public sealed class MemoryTests
{
    private static readonly DemoModels.Files Demo = DemoModels.Ensure(DemoModels.DefaultDir);
    private static ModelPaths DemoPaths => new() { Checkpoint = Demo.Checkpoint, LayerModel = Demo.AttentionLora, TransparentDecoder = Demo.Decoder };

    [Fact]
    public void UnetActivationsCountEverySkipConnection()
    {
        // Demo UNet: 32 channels, multipliers 1,2,4, two ResBlocks a level. Per latent pixel: conv_in 32, level 0 2x32,
        // its downsampler 32/4, level 1 2x64/4, downsampler 64/16, level 2 2x128/16, and two working maps of 32.
        Assert.Equal((32 + 64 + 8 + 32 + 4 + 16 + 64) * 4096L, WorkingSetEstimate.UnetActivations(DemoModels.Unet, 4096));
    }

    [Fact]
    public void ARunOverWhatIsAvailableIsRefusedNamingSizeNeedAndFree()
    {
        var s = new GenerationSettings { Width = 2048, Height = 1024, Batch = 2, Method = LayerMethod.Attn };
        var need = WorkingSetEstimate.For(DemoPaths, s, CpuBackend.Instance, encodesImages: false);
        Assert.Equal("cpu", need.Where);
        MemoryCheck.Require(need, s, hostAvailable: need.HostBytes, device: null);
        var e = Assert.Throws<InvalidSettingException>(() => MemoryCheck.Require(need, s, hostAvailable: need.HostBytes - 1, device: null));
        Assert.StartsWith("Width/Height: 2048x1024 with Batch 2 needs at least", e.Message);
        Assert.StartsWith("--width/--height: 2048x1024 with --batch 2 needs at least", e.Render(Cli.SettingNames.Option));
        Assert.Contains("of RAM (in its " + need.Peak.Phase + " phase", e.Message);
        Assert.Contains("is available", e.Message);
    }

    /// <summary>
    /// The estimate is a lower bound: a real CPU run's managed heap (sampled while it runs) goes above it. It is also
    /// not vacuous: at least a tenth of what the run holds.
    /// </summary>
    [Fact]
    public void TheCpuEstimateIsBelowWhatARunHolds()
    {
        var s = new GenerationSettings { Width = 256, Height = 256, Steps = 1, Sampler = "euler", Method = LayerMethod.Attn };
        var need = WorkingSetEstimate.For(DemoPaths, s, CpuBackend.Instance, encodesImages: false);
        long baseline = GC.GetTotalMemory(forceFullCollection: true), peak = baseline;
        bool running = true;
        // A thread of its own: the CPU backend keeps the thread pool busy.
        var sampler = new Thread(() =>
        {
            while (Volatile.Read(ref running)) { Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), GC.GetTotalMemory(false))); Thread.Sleep(1); }
        });
        sampler.Start();
        using (var models = new ModelBundle(CpuBackend.Instance, DemoPaths, DemoModels.Tokenizer()))
            new LayerPipeline(models).Run(s, new GenerationInputs());
        Volatile.Write(ref running, false);
        sampler.Join();
        long held = peak - baseline;
        Assert.True(need.HostBytes <= held, $"estimate {need.HostBytes} above the {held} bytes the run held");
        Assert.True(need.HostBytes * 10 >= held, $"estimate {need.HostBytes} is under a tenth of the {held} bytes the run held");
    }

    private static (int Code, string Output) Ld(Dictionary<string, string> env, params string[] args) =>
        CudaEmulatorTests.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ld.dll"), .. args], env, TimeSpan.FromMinutes(5));

    /// <summary>A real limit (the .NET heap's hard limit) under the estimate: refused before any work.</summary>
    [Fact]
    public void ARunOverTheHeapLimitIsRefusedUpFront()
    {
        string dir = TestPaths.TempDir();
        try
        {
            var (code, output) = Ld(new() { ["DOTNET_GCHeapHardLimit"] = "0x8000000" },
                "generate", "--demo", "--device", "cpu", "--width", "512", "--height", "512", "--steps", "1", "--out", Path.Combine(dir, "o.png"));
            Assert.True(code == ExitCodes.OutOfMemory, output);
            Assert.Contains("--width/--height: 512x512 needs at least", output);
            Assert.DoesNotContain("step 1/", output);
            Assert.Empty(Directory.GetFiles(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>`ld decode` checks the size its latent implies the same way (here: through the checkpoint's VAE at 1024x1024).</summary>
    [Fact]
    public void ADecodeOverTheHeapLimitIsRefusedUpFront()
    {
        string dir = TestPaths.TempDir();
        try
        {
            string latent = Path.Combine(dir, "latent.safetensors");
            new Native.IO.SafeTensorsWriter().Add("latent", [1, 4, 128, 128], new float[4 * 128 * 128]).Write(latent);
            var (code, output) = Ld(new() { ["DOTNET_GCHeapHardLimit"] = "0x10000000" }, "decode", "--model", TestPaths.Golden("tiny_sdxl.safetensors"),
                "--latent", latent, "--transparent-decoder", TestPaths.Golden("tiny_transparent_decoder.safetensors"), "--out", Path.Combine(dir, "o.png"), "--device", "cpu");
            Assert.True(code == ExitCodes.OutOfMemory, output);
            Assert.Contains($"--latent: {latent} (1024x1024) needs at least", output);
            Assert.False(File.Exists(Path.Combine(dir, "o.png")));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// A limit above the estimate but below what the run really takes: the run starts and the runtime throws
    /// OutOfMemoryException part-way. That is one clear line and exit 2, with nothing written.
    /// </summary>
    [Fact]
    public void ARealOutOfMemoryIsAClearError()
    {
        string dir = TestPaths.TempDir();
        try
        {
            var (code, output) = Ld(new() { ["DOTNET_GCHeapHardLimit"] = "0x18000000" },
                "generate", "--demo", "--device", "cpu", "--width", "768", "--height", "768", "--steps", "1", "--quiet", "--out", Path.Combine(dir, "o.png"));
            Assert.True(code == ExitCodes.OutOfMemory, output);
            Assert.Contains("ld generate: out of memory: this run needed more RAM", output);
            Assert.DoesNotContain("internal error", output);
            Assert.Empty(Directory.GetFiles(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

/// <summary>Out of GPU memory on the emulated GPU: a failing cuMemAlloc, a GPU too small for the size asked.</summary>
public sealed class EmulatedGpuMemoryTests(CudaEmulatorFixture emu) : IClassFixture<CudaEmulatorFixture>
{
    private (int Code, string Output) Ld(Dictionary<string, string> extraEnv, params string[] args)
    {
        // The fake cuDNN too, as on a card where libcudnn.so.9 loads: the emulated im2col fallback runs one coroutine per
        // column element and made one demo generation take six minutes.
        var env = new Dictionary<string, string>(extraEnv)
        {
            ["LD_CUDA_PATH"] = emu.Library!, ["LD_CUBLASLT_PATH"] = emu.Library!, ["LD_CUDNN_PATH"] = emu.Library!, ["LD_EMU_LEAK_REPORT"] = "1",
        };
        return CudaEmulatorTests.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "ld.dll"), .. args], env, TimeSpan.FromMinutes(5));
    }

    /// <summary>
    /// cuMemAlloc fails from its Nth call on (N early: while loading; late: during sampling or decoding). Each run ends
    /// with the out-of-GPU-memory error and exit 2, writes nothing, and has given every device byte back at exit.
    /// </summary>
    [EmulatorTheory]
    [InlineData(2)]
    [InlineData(60)]
    [InlineData(400)]
    public void AFailingAllocationIsAClearErrorAndFreesEverything(int failFrom)
    {
        string dir = TestPaths.TempDir();
        try
        {
            var (code, output) = Ld(new() { ["LD_EMU_FAIL_ALLOC_FROM"] = failFrom.ToString() },
                "generate", "--demo", "--device", "cuda", "--steps", "2", "--quiet", "--out", Path.Combine(dir, "o.png"), "--json", Path.Combine(dir, "o.json"));
            Assert.True(code == ExitCodes.OutOfMemory, output);
            Assert.Matches(@"ld generate: .*out of GPU memory: requested \d+ bytes", output);
            Assert.DoesNotContain("internal error", output);
            Assert.Contains("emu: 0 device bytes in 0 allocations still held at exit", output);
            Assert.Empty(Directory.GetFiles(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [EmulatorFact]
    public void ASizeOverTheFreeGpuMemoryIsRefusedUpFront()
    {
        var (code, output) = Ld(new() { ["LD_EMU_DEVICE_BYTES"] = (256L << 20).ToString() },
            "generate", "--demo", "--device", "cuda", "--width", "2048", "--height", "2048", "--out", Path.Combine(TestPaths.TempDir(), "o.png"));
        Assert.True(code == ExitCodes.OutOfMemory, output);
        Assert.Contains("--width/--height: 2048x2048 needs at least", output);
        Assert.Contains("of GPU memory on host emulation", output);
        Assert.DoesNotContain("step 1/", output);
    }

    /// <summary>The estimate a GPU run is admitted on is below the peak the pool measured (and not vacuous).</summary>
    [EmulatorFact]
    public void TheGpuEstimateIsBelowTheMeasuredPeak()
    {
        string dir = TestPaths.TempDir();
        try
        {
            string json = Path.Combine(dir, "o.json");
            var (code, output) = Ld([], "generate", "--demo", "--device", "cuda", "--precision", "fp32", "--steps", "2", "--quiet",
                "--out", Path.Combine(dir, "o.png"), "--json", json);
            Assert.True(code == 0, output);
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
            long peak = doc.RootElement.GetProperty("peak_device_bytes").GetInt64();
            long estimate = doc.RootElement.GetProperty("memory_estimate").GetProperty("tensor_bytes").GetInt64();
            Assert.True(estimate <= peak, $"estimate {estimate} above the measured peak {peak}");
            Assert.True(estimate * 10 >= peak, $"estimate {estimate} under a tenth of the measured peak {peak}");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}

/// <summary>
/// Runs alone (no other test class in parallel): TheCpuEstimateIsBelowWhatARunHolds samples the process-wide managed
/// heap, which other classes' allocations and collections would move.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMemoryCollection
{
    public const string Name = "process memory";
}
