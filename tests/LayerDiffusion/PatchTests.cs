using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;
using LayerDiffusion.Native.Tests.Unet;
using Xunit;

namespace LayerDiffusion.Native.Tests.LayerDiffusion;

public sealed class PatchTests : IDisposable
{
    private static readonly CpuBackend B = CpuBackend.Instance;
    private readonly string _dir = TestPaths.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A hand-made UNet store: a linear [2, 3], a bias [2] and an input conv [1, 1, 1, 2].</summary>
    private static WeightStore TinyStore() => WeightStore.FromTensors(B, "mem", "model.diffusion_model.", new Dictionary<string, Tensor>
    {
        ["lin.weight"] = B.FromHost([1, 2, 3, 4, 5, 6], 2, 3),
        ["lin.bias"] = B.FromHost([10, 20], 2),
        ["input_blocks.0.0.weight"] = B.FromHost([7, 8], 1, 1, 1, 2),
    });

    private string WritePatch(Action<SafeTensorsWriter> add)
    {
        var w = new SafeTensorsWriter();
        add(w);
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N")[..8] + ".safetensors");
        w.Write(path);
        return path;
    }

    [Fact]
    public void DiffAndLoraMergeByHand()
    {
        var path = WritePatch(w => w
            .Add("diffusion_model.lin.bias::diff::0", [2], new float[] { 1, -2 })
            // up [2, 1] @ down [1, 3] = [[1, 2, 3], [-1, -2, -3]]
            .Add("diffusion_model.lin.weight::lora::0", [2, 1], new float[] { 1, -1 })
            .Add("diffusion_model.lin.weight::lora::1", [1, 3], new float[] { 1, 2, 3 }));
        using var f = SafeTensorsFile.Open(path);
        var store = TinyStore();
        var merged = PatchMerger.Apply(store, PatchFile.Read(f), 0.5f);
        Assert.Equal([10.5f, 19f], B.ToHost(merged.Get("lin.bias")));
        Assert.Equal([1.5f, 3f, 4.5f, 3.5f, 4f, 4.5f], B.ToHost(merged.Get("lin.weight")));
        // The original store is untouched (Stop At switches back to it).
        Assert.Equal([1f, 2, 3, 4, 5, 6], B.ToHost(store.Get("lin.weight")));
        Assert.Equal([10f, 20], B.ToHost(store.Get("lin.bias")));
    }

    [Fact]
    public void LoraAlphaScalesByAlphaOverRank()
    {
        var path = WritePatch(w => w
            .Add("diffusion_model.lin.weight::lora::0", [2, 2], new float[] { 1, 0, 0, 1 })
            .Add("diffusion_model.lin.weight::lora::1", [2, 3], new float[] { 1, 1, 1, 2, 2, 2 })
            .Add("diffusion_model.lin.weight::lora::2", [], new float[] { 1 }));
        using var f = SafeTensorsFile.Open(path);
        var merged = PatchMerger.Apply(TinyStore(), PatchFile.Read(f), 2f);
        // ΔW = [[1,1,1],[2,2,2]] · (2 · 1/2)
        Assert.Equal([2f, 3, 4, 6, 7, 8], B.ToHost(merged.Get("lin.weight")));
    }

    [Fact]
    public void InputConvGrowsWithZeroChannelsThenAddsTheDiff()
    {
        // W [1, 1, 1, 2] = [7, 8]; Δ [1, 2, 1, 2] = [1, 2 | 3, 4]: old channel W + sΔ, new channel sΔ.
        var path = WritePatch(w => w.Add("diffusion_model.input_blocks.0.0.weight::diff::0", [1, 2, 1, 2], new float[] { 1, 2, 3, 4 }));
        using var f = SafeTensorsFile.Open(path);
        var merged = PatchMerger.Apply(TinyStore(), PatchFile.Read(f), 0.5f);
        var conv = merged.Get("input_blocks.0.0.weight");
        Assert.Equal([1, 2, 1, 2], conv.Shape);
        Assert.Equal([7.5f, 9f, 1.5f, 2f], B.ToHost(conv));
    }

    [Fact]
    public void GrowthIsOnlyAllowedOnTheInputConv()
    {
        var path = WritePatch(w => w.Add("diffusion_model.lin.weight::diff::0", [2, 4], new float[8]));
        using var f = SafeTensorsFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => PatchMerger.Apply(TinyStore(), PatchFile.Read(f), 1f));
        Assert.Equal("diffusion_model.lin.weight::diff::0", e.Tensor);
    }

    [Fact]
    public void LoraRankMismatchIsNamed()
    {
        var path = WritePatch(w => w
            .Add("diffusion_model.lin.weight::lora::0", [2, 2], new float[4])
            .Add("diffusion_model.lin.weight::lora::1", [3, 3], new float[9]));
        using var f = SafeTensorsFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => PatchFile.Read(f).Validate(TinyStore()));
        Assert.Equal("diffusion_model.lin.weight::lora::1", e.Tensor);
    }

    [Theory]
    [InlineData("diffusion_model.lin.weight::bogus::0")]
    [InlineData("model.diffusion_model.lin.weight::diff::0")]
    [InlineData("diffusion_model.lin.weight")]
    [InlineData("diffusion_model.lin.weight::diff::x")]
    public void MalformedKeysAreRejectedOnRead(string key)
    {
        var path = WritePatch(w => w.Add(key, [2, 3], new float[6]));
        using var f = SafeTensorsFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => PatchFile.Read(f));
        Assert.Equal(key, e.Tensor);
    }

    [Fact]
    public void GoldenPatchWithAnUnknownKeyIsRejectedNamingIt()
    {
        // A real patch file whose third tensor targets a weight the UNet does not have.
        const string bad = "diffusion_model.input_blocks.1.0.in_layers.7.weight::diff::0";
        using (var src = SafeTensorsFile.Open(TestPaths.Golden("patch_conv_diff.safetensors")))
            Assert.False(src.Contains(bad));
        int seen = 0;
        var path = CheckpointEdits.Write(TestPaths.Golden("patch_conv_diff.safetensors"), _dir, _ => true,
            n => ++seen == 3 ? (bad, null) : null);
        using var tiny = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var unet = SdxlUnet.Load(B, tiny);
        using var f = SafeTensorsFile.Open(path);
        var e = Assert.Throws<ModelFormatException>(() => PatchMerger.Apply(unet.Weights, PatchFile.Read(f), 1f));
        Assert.Equal(bad, e.Tensor);
        Assert.Contains("does not have", e.Message);
    }

    [Fact]
    public void GoldenLayerPatchWidensTheUnetInput()
    {
        using var tiny = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        using var f = SafeTensorsFile.Open(TestPaths.Golden("patch_layer_2cond.safetensors"));
        var unet = SdxlUnet.Load(B, tiny);
        var layer = new SdxlUnet(unet.Config, PatchMerger.Apply(unet.Weights, PatchFile.Read(f), 1f));
        Assert.Equal(12, layer.InChannels);
        Assert.Equal(4, unet.InChannels);
        Assert.Equal([32, 4, 3, 3], unet.Weights.ShapeOf("input_blocks.0.0.weight")!);
    }

    [Fact]
    public void ConcatInputRepeatsABatchOneConditionAfterTheLatent()
    {
        var x = B.FromHost([1, 2, 3, 4], 2, 2, 1, 1);
        var c = B.FromHost([9], 1, 1, 1, 1);
        var cat = ConcatInput.Build(B, x, [c]);
        Assert.Equal([2, 3, 1, 1], cat.Shape);
        Assert.Equal([1f, 2, 9, 3, 4, 9], B.ToHost(cat));
        Assert.Throws<ArgumentException>(() => ConcatInput.Build(B, x, [B.FromHost([1, 2], 1, 1, 1, 2)]));
    }
}
