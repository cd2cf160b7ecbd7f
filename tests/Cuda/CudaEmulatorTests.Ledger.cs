using System.Text.Json;
using LayerDiffusion.Native.Tests.Bench;
using Xunit;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>The cost ledger (`ld profile`) on the emulated GPU: launches from the real launch path, the same analytic counts as the CPU.</summary>
public sealed partial class CudaEmulatorTests
{
    /// <summary>Launches and bytes per UNet step of the tiny UNet at fp16 are pinned (LedgerPins says how to update them).</summary>
    [EmulatorFact]
    public void LedgerOfAUnetStepOnTheEmulatedGpuMatchesThePins()
    {
        var dir = Directory.CreateTempSubdirectory("ld-emu-ledger-").FullName;
        try
        {
            var step = ProfileUnetStep(dir, "emu", ["--device", "cuda", "--precision", "fp16", "--tiny"], EmulatorEnv);
            var counts = step.GetProperty("counts");
            Assert.Equal(LedgerPins.EmulatedFp16Launches, counts.GetProperty("launches").GetInt64());
            Assert.Equal(LedgerPins.EmulatedFp16Bytes, counts.GetProperty("bytes").GetInt64());
            Assert.Equal(LedgerPins.Flops, counts.GetProperty("flops").GetInt64());
            Assert.Equal(LedgerPins.Ops, counts.GetProperty("ops").GetInt64());
            Assert.Equal("fp16", step.GetProperty("dtype").GetString());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// The golden tiny UNet (whatever its shapes) on the CPU and on the emulated GPU at fp32: per op class the same
    /// ops, FLOPs and bytes (the rules see the same shapes and dtypes); launches only on the GPU (null on the CPU).
    /// </summary>
    [EmulatorFact]
    public void LedgerCountsAreTheSameOnTheCpuAndTheEmulatedGpu()
    {
        var dir = Directory.CreateTempSubdirectory("ld-emu-ledger-").FullName;
        try
        {
            string[] golden = ["--model", TestPaths.Golden("tiny_sdxl.safetensors")];
            var cpu = Classes(dir, "cpu", [.. golden, "--device", "cpu"], null);
            var gpu = Classes(dir, "gpu", [.. golden, "--device", "cuda", "--precision", "fp32"], EmulatorEnv);
            Assert.Equal(cpu.Keys.Order(), gpu.Keys.Order());
            foreach (var (cls, c) in cpu)
            {
                var g = gpu[cls];
                Assert.True(c.Ops == g.Ops && c.Flops == g.Flops && c.Bytes == g.Bytes, $"{cls}: CPU {c}, emulated GPU {g}");
                Assert.Null(c.Launches);
                Assert.NotNull(g.Launches); // 0 for a class of views and plain copies (memcpy is not a launch)
            }
            Assert.True(gpu.Values.Sum(g => g.Launches) > 0);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private readonly record struct ClassCounts(long Ops, long? Launches, long Flops, long Bytes);

    private Dictionary<string, ClassCounts> Classes(string dir, string name, string[] args, Dictionary<string, string>? env)
    {
        ProfileUnetStep(dir, name, args, env);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, name + ".json")));
        return doc.RootElement.GetProperty("records").EnumerateArray()
            .Where(r => r.GetProperty("params").GetProperty("op_class").ValueKind == JsonValueKind.String)
            .ToDictionary(r => r.GetProperty("params").GetProperty("op_class").GetString()!, r =>
            {
                var c = r.GetProperty("counts");
                var launches = c.GetProperty("launches");
                return new ClassCounts(c.GetProperty("ops").GetInt64(), launches.ValueKind == JsonValueKind.Null ? null : launches.GetInt64(),
                    c.GetProperty("flops").GetInt64(), c.GetProperty("bytes").GetInt64());
            });
    }

    /// <summary>`ld profile` of one UNet step at the pinned size; returns its component record (schema-checked).</summary>
    private JsonElement ProfileUnetStep(string dir, string name, string[] args, Dictionary<string, string>? env)
    {
        string json = Path.Combine(dir, name + ".json");
        var (code, text) = Run("dotnet", [LdDll, "profile", .. args, "--components", "unet_step", "--width", $"{LedgerPins.Width}", "--height", $"{LedgerPins.Height}",
            "--batch", $"{LedgerPins.Batch}", "--warmup", "0", "--runs", "1", "--json", json, "--work-dir", Path.Combine(dir, "work")], env, TimeSpan.FromMinutes(10));
        output.WriteLine(text);
        Assert.True(code == 0, text);
        BenchJsonSchema.AssertValid(json);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
        return doc.RootElement.GetProperty("records").EnumerateArray()
            .Single(r => r.GetProperty("name").GetString() == "unet_step" && r.GetProperty("params").GetProperty("op_class").ValueKind == JsonValueKind.Null).Clone();
    }
}
