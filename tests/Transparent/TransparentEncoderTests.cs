using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.Transparent;

public sealed class TransparentEncoderTests
{
    private static readonly CpuBackend B = CpuBackend.Instance;

    [Fact]
    public void ReleasedLayoutHasThreeStride2ConvsAndLatentOutput()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("transparent_encoder_weights.safetensors"));
        var enc = TransparentEncoder.Load(B, f);
        Assert.Equal(8, enc.Downscale);
        Assert.Equal(4, enc.InChannels);
        Assert.Equal(4, enc.LatentChannels);
        using var y = enc.Forward(TransparentTestModels.Random(1, 2, 4, 24, 40));
        Assert.Equal([2, 4, 3, 5], y.Shape);
        Assert.Throws<ArgumentException>(() => enc.Forward(TransparentTestModels.Random(1, 1, 4, 20, 16)));
    }

    /// <summary>Other stage widths load the same way: strides follow the stage structure, not the widths.</summary>
    [Fact]
    public void NarrowerEncoderWithEqualWidthsStillDownsamplesByEight()
    {
        int[] widths = [6, 6, 6, 6, 6, 6, 6, 6, 4];
        var tensors = new Dictionary<string, Tensor>();
        int inCh = 4;
        var rng = new System.Random(3);
        for (int j = 0; j < widths.Length; j++)
        {
            var w = new float[widths[j] * inCh * 9];
            for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() - 0.5) * 0.3f;
            tensors[$"blocks.{2 * j}.weight"] = B.FromHost(w, widths[j], inCh, 3, 3);
            tensors[$"blocks.{2 * j}.bias"] = B.FromHost(new float[widths[j]], widths[j]);
            inCh = widths[j];
        }
        var enc = new TransparentEncoder(WeightStore.FromTensors(B, "narrow", "", tensors));
        Assert.Equal(8, enc.Downscale);
        using var y = enc.Forward(TransparentTestModels.Random(2, 1, 4, 16, 32));
        Assert.Equal([1, 4, 2, 4], y.Shape);
    }

    [Fact]
    public void EncoderWithAnEvenConvCountIsRejectedByName()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["blocks.0.weight"] = B.FromHost(new float[8 * 4 * 9], 8, 4, 3, 3),
            ["blocks.0.bias"] = B.FromHost(new float[8], 8),
            ["blocks.2.weight"] = B.FromHost(new float[4 * 8 * 9], 4, 8, 3, 3),
            ["blocks.2.bias"] = B.FromHost(new float[4], 4),
        };
        var e = Assert.Throws<ModelFormatException>(() => new TransparentEncoder(WeightStore.FromTensors(B, "enc.safetensors", "", tensors)));
        Assert.Contains("enc.safetensors", e.Message);
        Assert.Contains("blocks.2.weight", e.Message);
    }

    [Fact]
    public void InputIsAlphaThenPaddedRgb()
    {
        var rgba = new byte[2 * 3 * 4];
        for (int i = 0; i < 6; i++) { rgba[i * 4] = 200; rgba[i * 4 + 1] = 100; rgba[i * 4 + 2] = 50; rgba[i * 4 + 3] = (byte)(i * 51); }
        var input = TransparentEncoder.BuildInput(rgba, 3, 2);
        var padded = PadRgb.Compute(rgba, 3, 2);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(i * 51 / 255f, input[i]);
            for (int c = 0; c < 3; c++) Assert.Equal(padded.Data[i * 3 + c], input[(c + 1) * 6 + i]);
        }
    }

    [Fact]
    public void RegulatedLatentIsMeanPlusStdTimesOffset()
    {
        var std = TransparentLatentOffset.Std([0f, 2f, -100f, 100f]);
        Assert.Equal(1f, std[0]);
        Assert.Equal(MathF.Exp(1f), std[1]);
        Assert.Equal(MathF.Exp(-15f), std[2]);   // logvar clamped to [-30, 20]
        Assert.Equal(MathF.Exp(10f), std[3]);
        var z = TransparentLatentOffset.Regulate([1f, 2f], [0.5f, 2f], [4f, -1f]);
        Assert.Equal([3f, 0f], z);
        Assert.Throws<ArgumentException>(() => TransparentLatentOffset.Regulate([1f], [1f, 2f], [1f]));
    }
}
