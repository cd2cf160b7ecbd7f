using System.Reflection;
using System.Text.Json;
using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Backends.Ledger;
using LayerDiffusion.Native.Random;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.Bench;

/// <summary>The cost ledger (Backends/Ledger, `ld profile`) on the CPU: its rules, its recorder and the pinned FLOPs of a UNet step.</summary>
public sealed class LedgerTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>
    /// An op added to IBackend (or IPhiloxNormalDevice) without a rule in OpCosts, or not forwarded by the recorder
    /// itself (a default implementation would run as the recorder's basic ops, counted as those), fails here.
    /// </summary>
    [Fact]
    public void EveryBackendOpHasACostRuleAndTheRecorderForwardsIt()
    {
        var ops = typeof(IBackend).GetMethods().Concat(typeof(IPhiloxNormalDevice).GetMethods())
            .Where(m => !m.IsSpecialName && m.Name != nameof(IDisposable.Dispose) && m.GetCustomAttribute<BackendServiceAttribute>() is null).ToList();
        Assert.Contains(ops, m => m.Name == nameof(IBackend.Conv2dAdd));
        var rules = typeof(OpCosts).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.ReturnType == typeof(OpCost)).Select(m => m.Name).ToHashSet();
        var noRule = ops.Where(m => !rules.Contains(m.Name)).Select(m => m.Name).ToList();
        Assert.True(noRule.Count == 0, "IBackend ops without a cost rule in Backends/Ledger/OpCosts.cs: " + string.Join(", ", noRule));

        foreach (var iface in new[] { typeof(IBackend), typeof(IPhiloxNormalDevice) })
        {
            var map = typeof(RecordingBackend).GetInterfaceMap(iface);
            // IBackend's own default for a base interface's member (IPhiloxNormalDevice.PhiloxNormal) is checked in that interface's map.
            var notForwarded = map.InterfaceMethods.Where((m, i) => !m.IsSpecialName && !m.Name.Contains('.') && map.TargetMethods[i].DeclaringType != typeof(RecordingBackend))
                .Select(m => m.Name).ToList();
            Assert.True(notForwarded.Count == 0, $"{iface.Name} ops the recorder does not implement itself: " + string.Join(", ", notForwarded));
        }
    }

    /// <summary>A small graph through the recorder: classes, FLOPs and bytes as the rules say, self vs cross attention from where k comes from.</summary>
    [Fact]
    public void RecorderCountsAHandBuiltGraphAndTellsSelfFromCrossAttention()
    {
        var ledger = new OpLedger();
        using var b = RecordingBackend.Wrap(CpuBackend.Instance, ledger);
        const int batch = 2, n = 8, m = 5, c = 16, heads = 2;
        var x = b.FromHost(Values(batch * n * c), batch, n, c);
        var ctx = b.FromHost(Values(batch * m * c), batch, m, c);
        var wq = b.FromHost(Values(c * c), c, c);
        var wk = b.FromHost(Values(c * c), c, c);
        var bias = b.FromHost(Values(c), c);

        ledger.Begin();
        using (TensorScope.Open())
        {
            var q = b.Linear(x, wq, bias);
            b.Attention(q, b.Linear(x, wk, null), b.Linear(x, wk, null), heads, causal: false);                 // k, v from x: self
            b.Attention(q, b.Linear(ctx, wk, null), b.Reshape(b.Linear(ctx, wk, null), batch, m, c), heads, causal: false); // from the context: cross
            b.Add(q, bias);
        }
        var round = ledger.End();

        var linear = round.Classes[OpClass.Linear];
        Assert.Equal(5, linear.Ops);
        Assert.Null(linear.Launches); // the CPU launches nothing
        long xBytes = 4L * batch * n * c, ctxBytes = 4L * batch * m * c, wBytes = 4L * c * c, biasBytes = 4L * c;
        Assert.Equal(3 * 2L * batch * n * c * c + batch * n * c + 2 * 2L * batch * m * c * c, linear.Flops);
        Assert.Equal(3 * (xBytes + wBytes + xBytes) + biasBytes + 2 * (ctxBytes + wBytes + ctxBytes), linear.Bytes);
        Assert.Equal(4L * batch * n * n * c, round.Classes[OpClass.AttentionSelf].Flops);
        Assert.Equal(4L * batch * n * m * c, round.Classes[OpClass.AttentionCross].Flops);
        Assert.Equal(1, round.Classes[OpClass.AttentionSelf].Ops);
        Assert.Equal(1, round.Classes[OpClass.AttentionCross].Ops);
        Assert.Equal((1, 0L, 0L), (round.Classes[OpClass.Layout].Ops, round.Classes[OpClass.Layout].Flops, round.Classes[OpClass.Layout].Bytes)); // a view
        Assert.Equal((long)batch * n * c, round.Classes[OpClass.Elementwise].Flops);
        Assert.Equal(xBytes + biasBytes + xBytes, round.Classes[OpClass.Elementwise].Bytes);
        Assert.All(round.Classes.Values, t => Assert.True(t.Ms >= 0));
        Assert.Equal(9, round.Total.Ops);

        // Outside a round nothing is recorded, and a new round starts from nothing.
        using (TensorScope.Open()) b.Add(x, x);
        ledger.Begin();
        Assert.Empty(ledger.End().Classes);
    }

    [Fact]
    public void CausalAttentionCountsOnlyTheUnmaskedPairs()
    {
        using var scope = TensorScope.Open();
        var cpu = CpuBackend.Instance;
        var q = cpu.FromHost(Values(1 * 4 * 8), 1, 4, 8);
        var k = cpu.FromHost(Values(1 * 6 * 8), 1, 6, 8);
        var y = cpu.FromHost(Values(1 * 4 * 8), 1, 4, 8);
        // Query i sees keys 0..i: 1 + 2 + 3 + 4 pairs of 6·4 possible.
        Assert.Equal(4L * 10 * 8, OpCosts.Attention(q, k, k, 2, causal: true, y, selfAttention: true).Flops);
        Assert.Equal(4L * 24 * 8, OpCosts.Attention(q, k, k, 2, causal: false, y, selfAttention: false).Flops);
        Assert.Equal(OpClass.AttentionCross, OpCosts.Attention(q, k, k, 2, causal: false, y, selfAttention: false).Class);
    }

    [Fact]
    public void PeakTableNamesTheCardsAndDerivesTheRest()
    {
        var h100 = DevicePeaks.For("NVIDIA H100 80GB HBM3", 9, 0, 132, 1_980_000, 2_619_000, 5120, DevicePeaks.Units.Fp16Tensor);
        Assert.Equal((989.4, 3350.0), (h100.TflopS!.Value, h100.GbS!.Value));
        Assert.Contains("datasheet", h100.Source);
        var h200 = DevicePeaks.For("NVIDIA H200", 9, 0, 132, 1_980_000, 3_201_000, 6144, DevicePeaks.Units.Tf32Tensor);
        Assert.Equal((494.7, 4800.0), (h200.TflopS!.Value, h200.GbS!.Value));
        // Another card: 2 · 1 GHz · 4096-bit = 1024 GB/s; 100 SMs · 1.5 GHz · 4096 FLOP/clock = 614.4 TFLOP/s.
        var other = DevicePeaks.For("Some sm_90 card", 9, 0, 100, 1_500_000, 1_000_000, 4096, DevicePeaks.Units.Fp16Tensor);
        Assert.Equal(614.4, other.TflopS!.Value, 6);
        Assert.Equal(1024.0, other.GbS!.Value, 6);
        Assert.StartsWith("derived", other.Source);
        var unknown = DevicePeaks.For("host emulation", 8, 0, 2, 0, 0, 0, DevicePeaks.Units.Fp32);
        Assert.Null(unknown.TflopS);
        Assert.Null(unknown.GbS);
    }

    /// <summary>
    /// `ld profile` on the CPU: schema-valid JSON with the component's totals and a record per op class that add up to
    /// them, the Markdown ledger from the same records, and the pinned FLOPs of a UNet step (LedgerPins).
    /// </summary>
    [Fact]
    public void ProfileOfAUnetStepOnTheCpuMatchesThePins()
    {
        var (code, stdout, stderr) = CliRunner.Run("profile", "--device", "cpu", "--components", "unet_step", "--width", $"{LedgerPins.Width}",
            "--height", $"{LedgerPins.Height}", "--batch", $"{LedgerPins.Batch}", "--warmup", "0", "--runs", "2",
            "--json", P("ledger.json"), "--markdown", P("ledger.md"), "--work-dir", P("work"));
        Assert.True(code == 0, stderr);
        BenchJsonSchema.AssertValid(P("ledger.json"));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(P("ledger.json")));
        var records = doc.RootElement.GetProperty("records").EnumerateArray().ToList();
        var step = records.Single(r => r.GetProperty("params").GetProperty("op_class").ValueKind == JsonValueKind.Null);
        Assert.Equal("unet_step", step.GetProperty("name").GetString());
        var counts = step.GetProperty("counts");
        Assert.Equal(LedgerPins.Flops, counts.GetProperty("flops").GetInt64());
        Assert.Equal(LedgerPins.Ops, counts.GetProperty("ops").GetInt64());
        Assert.Equal(JsonValueKind.Null, counts.GetProperty("launches").ValueKind);
        Assert.Equal(JsonValueKind.Null, step.GetProperty("rates").GetProperty("flop_share").ValueKind); // no peak figures for a CPU

        var classes = records.Where(r => r.GetProperty("params").GetProperty("op_class").ValueKind == JsonValueKind.String).ToList();
        var names = classes.Select(r => r.GetProperty("params").GetProperty("op_class").GetString()).ToList();
        Assert.Subset(names.ToHashSet(), new HashSet<string?> { OpClass.AttentionSelf, OpClass.AttentionCross, OpClass.Conv, OpClass.Linear, OpClass.Norm });
        Assert.Equal(LedgerPins.Flops, classes.Sum(r => r.GetProperty("counts").GetProperty("flops").GetInt64()));
        Assert.Equal(counts.GetProperty("bytes").GetInt64(), classes.Sum(r => r.GetProperty("counts").GetProperty("bytes").GetInt64()));
        Assert.All(classes, r => Assert.Equal(2, r.GetProperty("samples_ms").GetArrayLength()));

        Assert.Contains("### Cost ledger: unet_step b2 128x128", stdout);
        Assert.Contains("| attention_cross |", File.ReadAllText(P("ledger.md")));
        Assert.DoesNotContain("| unet_step | b2 128x128 attention_cross", stdout); // op classes stay out of the component table
    }

    [Fact]
    public void ProfileRejectsABadSize()
    {
        var (code, _, stderr) = CliRunner.Run("profile", "--device", "cpu", "--width", "100");
        Assert.Equal(2, code);
        Assert.Contains("--width: 100 is not a multiple of 8", stderr);
    }

    private static float[] Values(int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = 0.25f + (i * 7919 % 101) / 101f;
        return v;
    }
}
