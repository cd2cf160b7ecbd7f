using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Models.Unet;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

public sealed class SyntheticLayoutTests
{
    /// <summary>The layout generator is the exact inverse of config inference on a real-layout file.</summary>
    [Fact]
    public void TinyConfigRegeneratesTheGoldenCheckpointKeysAndShapes()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var unet = UnetConfig.Infer(f, ModelFamily.Sdxl.UnetPrefix, ModelFamily.Sdxl.UnetHeads);
        int Dim(string k, int i) => f.Info(k).Shape[i];
        int Count(string prefix, string suffix) { int n = 0; while (f.Contains($"{prefix}{n}{suffix}")) n++; return n; }
        string vp = ModelFamily.Sdxl.VaePrefix;
        int levels = Count(vp + "encoder.down.", ".block.0.norm1.weight");
        var vaeCh = Enumerable.Range(0, levels).Select(i => Dim($"{vp}encoder.down.{i}.block.0.conv1.weight", 0)).ToArray();
        var sizes = new SdxlSizes(
            Dim(ModelFamily.Sdxl.TextEncoders[0].Prefix + "embeddings.token_embedding.weight", 1),
            Count(ModelFamily.Sdxl.TextEncoders[0].Prefix + "encoder.layers.", ".layer_norm1.weight"),
            Dim(ModelFamily.Sdxl.TextEncoders[1].Prefix + "token_embedding.weight", 1),
            Count(ModelFamily.Sdxl.TextEncoders[1].Prefix + "transformer.resblocks.", ".ln_1.weight"),
            Dim(ModelFamily.Sdxl.TextEncoders[1].Prefix + "text_projection", 1),
            vaeCh, Count(vp + "encoder.down.0.block.", ".norm1.weight"));
        var layout = SdxlLayout.Checkpoint(unet, sizes);
        var generated = layout.Tensors.ToDictionary(t => t.Name, t => t.Shape);
        var missing = f.Names.Where(n => !generated.ContainsKey(n)).ToList();
        var extra = generated.Keys.Where(n => !f.Contains(n)).ToList();
        Assert.True(missing.Count == 0, "not generated: " + string.Join(", ", missing.Take(5)));
        Assert.True(extra.Count == 0, "not in the file: " + string.Join(", ", extra.Take(5)));
        foreach (var (name, shape) in generated) Assert.True(f.Info(name).Shape.SequenceEqual(shape), name);
    }

    [Fact]
    public void SyntheticFileLoadsAndIsDeterministic()
    {
        var dir = TestPaths.TempDir();
        var cfg = new UnetConfig(4, 4, 32, [1, 2], 1, [0, 1], [1, 1, 0, 0], 1, 64, 0, 128, ModelFamily.Sdxl.UnetHeads);
        var layout = new TensorLayout();
        SdxlLayout.Unet(layout, cfg, ModelFamily.Sdxl.UnetPrefix);
        string a = Path.Combine(dir, "a.safetensors"), b = Path.Combine(dir, "b.safetensors");
        SyntheticWeights.Write(layout, a, 7);
        SyntheticWeights.Write(layout, b, 7);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        using var f = SafeTensorsFile.Open(a);
        var back = UnetConfig.Infer(f, ModelFamily.Sdxl.UnetPrefix, ModelFamily.Sdxl.UnetHeads);
        Assert.Equal(cfg.InputDepths, back.InputDepths);
        Assert.Equal(cfg.OutputDepths, back.OutputDepths);
        Assert.Equal(cfg.ChannelMult, back.ChannelMult);
        Assert.Equal(64, back.ContextDim);
    }
}

public sealed class SyntheticDecoderLayoutTests
{
    [Fact]
    public void DecoderLayoutRegeneratesTheGoldenDecoder()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_transparent_decoder.safetensors"));
        int n = 0;
        while (f.Contains($"down_blocks.{n}.resnets.0.conv1.weight")) n++;
        var widths = Enumerable.Range(0, n).Select(i => f.Info($"down_blocks.{i}.resnets.0.conv1.weight").Shape[0]).ToArray();
        var layout = LayerDiffusionLayout.TransparentDecoder(widths);
        var generated = layout.Tensors.ToDictionary(t => t.Name, t => t.Shape);
        Assert.Equal(f.Names.OrderBy(x => x, StringComparer.Ordinal), generated.Keys.OrderBy(x => x, StringComparer.Ordinal));
        foreach (var (name, shape) in generated) Assert.True(f.Info(name).Shape.SequenceEqual(shape), name);
    }

    [Fact]
    public void LoraLayoutMatchesTheGoldenAttentionPatch()
    {
        using var ckpt = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        using var patch = SafeTensorsFile.Open(TestPaths.Golden("patch_attn_lora.safetensors"));
        var unet = UnetConfig.Infer(ckpt, ModelFamily.Sdxl.UnetPrefix, ModelFamily.Sdxl.UnetHeads);
        int rank = patch.Info(patch.Names.First(k => k.EndsWith("::lora::1", StringComparison.Ordinal))).Shape[0];
        var layout = LayerDiffusionLayout.AttentionLora(unet, rank);
        Assert.Equal(patch.Names.OrderBy(x => x, StringComparer.Ordinal), layout.Tensors.Select(t => t.Name).OrderBy(x => x, StringComparer.Ordinal));
        foreach (var t in layout.Tensors) Assert.True(patch.Info(t.Name).Shape.SequenceEqual(t.Shape), t.Name);
    }
}
