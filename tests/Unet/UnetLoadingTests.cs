using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Models.Vae;
using Xunit;

namespace LayerDiffusion.Native.Tests.Unet;

/// <summary>Loading the UNet and VAE from checkpoints with a tensor missing or misshaped fails naming that tensor.</summary>
public sealed class UnetLoadingTests : IDisposable
{
    private static readonly CpuBackend B = CpuBackend.Instance;
    private readonly string _dir = TestPaths.TempDir();
    private static string TinySdxl => TestPaths.Golden("tiny_sdxl.safetensors");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelFormatException LoadUnetExpectingError(string path)
    {
        using var f = SafeTensorsFile.Open(path);
        return Assert.Throws<ModelFormatException>(() => SdxlUnet.Load(B, f));
    }

    [Fact]
    public void TinyCheckpointLoads()
    {
        using var f = SafeTensorsFile.Open(TinySdxl);
        var unet = SdxlUnet.Load(B, f);
        Assert.Equal(4, unet.InChannels);
        Assert.Equal(f.Names.Count(n => n.StartsWith(SdxlUnet.CheckpointPrefix, StringComparison.Ordinal)), unet.Weights.Names.Count);
    }

    [Theory]
    [InlineData("model.diffusion_model.input_blocks.4.0.emb_layers.1.weight")]
    [InlineData("model.diffusion_model.middle_block.1.transformer_blocks.2.attn2.to_v.weight")]
    [InlineData("model.diffusion_model.output_blocks.5.2.conv.bias")]
    [InlineData("model.diffusion_model.label_emb.0.2.bias")]
    public void MissingUnetTensorIsNamed(string key)
    {
        var path = CheckpointEdits.Write(TinySdxl, _dir, n => n.StartsWith(SdxlUnet.CheckpointPrefix, StringComparison.Ordinal) && n != key);
        var e = LoadUnetExpectingError(path);
        Assert.Equal(key, e.Tensor);
        Assert.Contains(key, e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Theory]
    [InlineData("model.diffusion_model.input_blocks.7.1.transformer_blocks.1.attn1.to_q.weight", new[] { 128, 64 })]
    [InlineData("model.diffusion_model.output_blocks.3.0.skip_connection.weight", new[] { 64, 192, 3, 3 })]
    [InlineData("model.diffusion_model.out.0.bias", new[] { 33 })]
    public void MisshapedUnetTensorIsNamed(string key, int[] shape)
    {
        var path = CheckpointEdits.Write(TinySdxl, _dir, n => n.StartsWith(SdxlUnet.CheckpointPrefix, StringComparison.Ordinal),
            n => n == key ? (n, shape) : null);
        var e = LoadUnetExpectingError(path);
        Assert.Equal(key, e.Tensor);
        Assert.Contains("[" + string.Join(", ", shape) + "]", e.Message);
    }

    [Theory]
    [InlineData("first_stage_model.decoder.mid.attn_1.q.bias", null)]
    [InlineData("first_stage_model.encoder.down.1.downsample.conv.weight", new[] { 32, 32, 1, 1 })]
    [InlineData("first_stage_model.decoder.up.1.block.0.nin_shortcut.weight", null)]
    public void BrokenVaeTensorIsNamed(string key, int[]? shape)
    {
        var path = CheckpointEdits.Write(TinySdxl, _dir,
            n => n.StartsWith(SdxlVae.CheckpointPrefix, StringComparison.Ordinal) && (shape is not null || n != key),
            n => n == key && shape is not null ? (n, shape) : null);
        using var f = SafeTensorsFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => SdxlVae.Load(B, f));
        Assert.Equal(key, e.Tensor);
    }

    [Fact]
    public void WithReplacesACopyAndLeavesTheOriginal()
    {
        var a = B.FromHost([1f, 2f], 2);
        var store = WeightStore.FromTensors(B, "mem", "p.", new Dictionary<string, Tensors.Tensor> { ["a"] = a, ["b"] = B.FromHost([3f], 1) });
        var patched = store.With(new Dictionary<string, Tensors.Tensor> { ["a"] = B.FromHost([5f, 6f, 7f], 3) });
        Assert.Same(a, store.Get("a"));
        Assert.Equal([5f, 6f, 7f], B.ToHost(patched.Get("a")));
        Assert.Same(store.Get("b"), patched.Get("b"));
        Assert.Throws<ArgumentException>(() => store.With(new Dictionary<string, Tensors.Tensor> { ["c"] = a }));
        var e = Assert.Throws<ModelFormatException>(() => store.Get("a", Models.Layers.ParamKind.Weight, 3));
        Assert.Equal("p.a", e.Tensor);
    }

    [Fact]
    public void LinearWeightsMayBeStoredAsOneByOneConvolutions()
    {
        var store = WeightStore.FromTensors(B, "mem", "", new Dictionary<string, Tensors.Tensor> { ["q"] = B.FromHost(new float[6], 2, 3, 1, 1) });
        Assert.Equal([2, 3], store.GetLinear("q", 2, 3).Shape);
        Assert.Throws<ModelFormatException>(() => store.GetLinear("q", 3, 2));
    }
}
