using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Bench;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Models.Unet;
using Xunit;

namespace LayerDiffusion.Native.Tests.Bench;

public sealed class BenchModelTests
{
    [Fact]
    public void StreamedWriterStoresTheSyntheticValues()
    {
        var layout = LayerDiffusionLayout.TransparentDecoder([8, 8, 16, 16, 32, 32, 32]);
        string dir = TestPaths.TempDir();
        try
        {
            string path = Path.Combine(dir, "d.safetensors");
            SyntheticWeights.Write(layout, path, 99);
            using var f = SafeTensorsFile.Open(path);
            Assert.Equal(layout.Tensors.Select(t => t.Name), f.Names);
            foreach (var t in layout.Tensors.Take(12))
            {
                Assert.Equal(t.Shape, f.Info(t.Name).Shape);
                var expected = SyntheticWeights.Values(t, 99).Select(v => (float)(Half)v).ToArray();
                Assert.Equal(expected, f.ReadFloat32(t.Name));
            }
            var attention = AttentionBench.DecoderShapes(f, 128, 128).Select(s => s.ToString()).ToArray();
            Assert.Equal(["b1 h4 q64 k64 d8", "b1 h4 q16 k16 d8", "b1 h4 q4 k4 d8"], attention);
            // Sides are padded to the network's multiple (64) first, as the decoder does: 136 → 192, (192/16)·(128/16) = 96.
            Assert.Equal("b1 h4 q96 k96 d8", AttentionBench.DecoderShapes(f, 128, 136).First().ToString());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void EncoderLayoutRegeneratesTheGoldenEncodersKeysAndShapes()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("transparent_encoder_weights.safetensors"));
        int convs = 0;
        while (f.Contains($"blocks.{2 * convs}.weight")) convs++;
        var widths = Enumerable.Range(0, convs - 1).Select(j => f.Info($"blocks.{2 * j}.weight").Shape[0]).ToArray();
        var layout = LayerDiffusionLayout.TransparentEncoder(widths, f.Info("blocks.0.weight").Shape[1], f.Info($"blocks.{2 * (convs - 1)}.weight").Shape[0]);
        Assert.Equal(f.Names.OrderBy(n => n, StringComparer.Ordinal), layout.Tensors.Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal));
        foreach (var t in layout.Tensors) Assert.Equal(f.Info(t.Name).Shape, t.Shape);
    }

    [Fact]
    public void ReleasedEncoderHasTheReleasedParameterCountAndDownscale()
    {
        var layout = LayerDiffusionLayout.TransparentEncoder(BenchLayouts.RealEncoderWidths);
        Assert.Equal(1_181_764L, layout.Tensors.Sum(t => (long)Tensors.Shape.Count(t.Shape)));   // layerdiffusion.md 5.1
        var b = CpuBackend.Instance;
        var store = WeightStore.FromTensors(b, "enc", "", layout.Tensors.ToDictionary(t => t.Name, t => b.FromHost(new float[Tensors.Shape.Count(t.Shape)], t.Shape)));
        var enc = new TransparentEncoder(store);
        Assert.Equal(8, enc.Downscale);
        Assert.Equal(4, enc.LatentChannels);
    }

    [Fact]
    public void ConvOffsetsSkipQkvAndEmbeddingsAndValidateAgainstTheUnet()
    {
        var cfg = DemoModels.Unet;
        var offsets = BenchLayouts.ConvOffsets(cfg);
        Assert.DoesNotContain(offsets.Tensors, t => t.Name.Contains(".to_q.") || t.Name.Contains(".to_k.") || t.Name.Contains(".to_v.")
            || t.Name.StartsWith("diffusion_model.time_embed.") || t.Name.StartsWith("diffusion_model.label_emb."));
        Assert.Contains(offsets.Tensors, t => t.Name == "diffusion_model.input_blocks.0.0.weight::diff::0");
        Assert.Contains(offsets.Tensors, t => t.Name.EndsWith(".attn1.to_out.0.weight::diff::0"));

        string dir = TestPaths.TempDir();
        try
        {
            string unetPath = Path.Combine(dir, "u.safetensors"), patchPath = Path.Combine(dir, "p.safetensors");
            var net = new TensorLayout();
            SdxlLayout.Unet(net, cfg, "");
            SyntheticWeights.Write(net, unetPath, 1);
            SyntheticWeights.Write(offsets, patchPath, 2);
            using var uf = SafeTensorsFile.Open(unetPath);
            using var pf = SafeTensorsFile.Open(patchPath);
            var store = WeightStore.Load(CpuBackend.Instance, uf, "");
            var patch = PatchFile.Read(pf);
            patch.Validate(store);
            Assert.All(patch.Entries, e => Assert.Equal(PatchKind.Diff, e.Kind));
        }
        finally { Directory.Delete(dir, true); }
    }
}
