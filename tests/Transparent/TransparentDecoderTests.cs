using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.Transparent;

public sealed class TransparentDecoderTests
{
    private static readonly CpuBackend B = CpuBackend.Instance;

    [Fact]
    public void ConfigIsReadFromTheGoldenTinyDecoder()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_transparent_decoder.safetensors"));
        var cfg = TransparentDecoderConfig.Infer(WeightStore.Load(B, f, ""));
        Assert.Equal([8, 8, 16, 16, 32, 32, 32], cfg.Down.Select(d => d.OutChannels));
        Assert.Equal([32, 32, 32, 16, 16, 8, 8], cfg.Up.Select(d => d.OutChannels));
        Assert.Equal([false, false, false, false, true, true, true], cfg.Down.Select(d => d.HasAttention));
        Assert.Equal([true, true, true, false, false, false, false], cfg.Up.Select(d => d.HasAttention));
        Assert.All(cfg.Down, d => Assert.Equal(2, d.Layers));
        Assert.All(cfg.Up, d => Assert.Equal(3, d.Layers));
        Assert.Equal(64, cfg.SizeMultiple);
        Assert.Equal(3, cfg.LatentBlock);
        Assert.Equal((3, 4, 4), (cfg.PixelChannels, cfg.OutChannels, cfg.LatentChannels));
    }

    [Fact]
    public void ShallowerDecoderInfersItsOwnMultipleAndLatentPoint()
    {
        var decoder = new TransparentDecoder(TransparentTestModels.Decoder([8, 8, 16, 16, 16], attentionLevels: 2));
        Assert.Equal(16, decoder.Config.SizeMultiple);
        Assert.Equal(3, decoder.Config.LatentBlock);
        using var y = decoder.Forward(TransparentTestModels.Random(1, 2, 3, 32, 48), TransparentTestModels.Random(2, 2, 4, 4, 6));
        Assert.Equal([2, 4, 32, 48], y.Shape);
    }

    [Fact]
    public void MisshapedTensorIsReportedByName()
    {
        var good = TransparentTestModels.Decoder([8, 8, 16, 16, 16], attentionLevels: 2);
        var bad = good.With(new Dictionary<string, Tensor> { ["up_blocks.1.resnets.2.conv1.weight"] = B.FromHost(new float[8 * 24 * 9], 8, 24, 3, 3) });
        var e = Assert.Throws<ModelFormatException>(() => new TransparentDecoder(bad));
        Assert.Contains("up_blocks.1.resnets.2.conv1.weight", e.Message);
    }

    [Fact]
    public void MissingLatentConvIsReportedByName()
    {
        var good = TransparentTestModels.Decoder([8, 8, 16, 16, 16], attentionLevels: 2);
        var names = good.Names.Where(n => !n.StartsWith("latent_conv_in", StringComparison.Ordinal)).ToDictionary(n => n, good.Get);
        var e = Assert.Throws<ModelFormatException>(() => new TransparentDecoder(WeightStore.FromTensors(B, "x.safetensors", "", names)));
        Assert.Contains("latent_conv_in.weight", e.Message);
    }

    /// <summary>
    /// The 8 passes form the dihedral group, so the augmented decode commutes exactly with any flip or quarter turn
    /// of its inputs: the same 8 network inputs are evaluated, only in another order.
    /// </summary>
    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    [InlineData(true, 3)]
    public void AugmentedDecodeIsEquivariantUnderTheDihedralGroup(bool flip, int k)
    {
        var decoder = new TransparentDecoder(TransparentTestModels.Decoder([8, 8, 16, 16, 16], attentionLevels: 2));
        using var pixel = TransparentTestModels.Random(3, 1, 3, 32, 32);
        using var latent = TransparentTestModels.Random(4, 1, 4, 4, 4);
        using var y = decoder.DecodeAugmented(pixel, latent);
        using var tp = B.FlipRot(pixel, flip, k, inverse: false);
        using var tl = B.FlipRot(latent, flip, k, inverse: false);
        using var ty = decoder.DecodeAugmented(tp, tl);
        using var expected = B.FlipRot(y, flip, k, inverse: false);
        Assert.Equal(B.ToHost(expected), B.ToHost(ty));
    }

    [Fact]
    public void AugmentedDecodeIsTheLowerMedianOfClippedPasses()
    {
        var decoder = new TransparentDecoder(TransparentTestModels.Decoder([8, 8, 16, 16, 16], attentionLevels: 2));
        using var pixel = TransparentTestModels.Random(5, 1, 3, 16, 32);
        using var latent = TransparentTestModels.Random(6, 1, 4, 2, 4);
        var passes = new List<float[]>();
        foreach (bool flip in new[] { false, true })
            for (int k = 0; k < 4; k++)
            {
                using var y = decoder.Forward(B.FlipRot(pixel, flip, k, false), B.FlipRot(latent, flip, k, false));
                passes.Add(B.ToHost(B.FlipRot(B.Clamp(y, 0, 1), flip, k, true)));
            }
        var got = B.ToHost(decoder.DecodeAugmented(pixel, latent));
        for (int i = 0; i < got.Length; i++)
        {
            var sorted = passes.Select(p => p[i]).Order().ToArray();
            Assert.Equal(sorted[3], got[i]);
        }
    }

    /// <summary>Stacking passes into one network call changes speed only: every grouping gives the same bytes.</summary>
    [Theory]
    [InlineData(32, 32, 8)]
    [InlineData(32, 32, 3)]
    [InlineData(16, 32, 4)]
    [InlineData(16, 32, 8)]
    public void BatchedPassesGiveTheSameResultAsOneAtATime(int h, int w, int passesPerCall)
    {
        var decoder = new TransparentDecoder(TransparentTestModels.Decoder([8, 8, 16, 16, 16], attentionLevels: 2));
        using var pixel = TransparentTestModels.Random(11, 2, 3, h, w);
        using var latent = TransparentTestModels.Random(12, 2, 4, h / 8, w / 8);
        decoder.PassesPerCall = 1;
        var one = B.ToHost(decoder.DecodeAugmented(pixel, latent));
        decoder.PassesPerCall = passesPerCall;
        var grouped = B.ToHost(decoder.DecodeAugmented(pixel, latent));
        Assert.Equal(one.Length, grouped.Length);
        for (int i = 0; i < one.Length; i++) Assert.Equal(one[i], grouped[i], 6);
        Assert.Equal(1, decoder.AutoPassesPerCall(B, 2, h, w));
    }

    [Theory]
    [InlineData(true, 8, new[] { 8 })]
    [InlineData(true, 3, new[] { 3, 3, 2 })]
    [InlineData(false, 8, new[] { 4, 4 })]
    [InlineData(false, 2, new[] { 2, 2, 2, 2 })]
    public void PassGroupsHoldOnlyInputsOfOneShape(bool square, int group, int[] sizes)
    {
        var groups = TransparentDecoder.PassGroups(square, group).ToArray();
        Assert.Equal(sizes, groups.Select(g => g.Length));
        Assert.Equal(Enumerable.Range(0, 8), groups.SelectMany(g => g).Order());
        if (!square) Assert.All(groups, g => Assert.Single(g.Select(i => i & 1).Distinct()));
    }

    [Theory]
    [InlineData(40, 24)]
    [InlineData(8, 72)]
    public void SizesThatAreMultiplesOf8AreMirrorPaddedAndCropped(int h, int w)
    {
        var decoder = new TransparentDecoder(TransparentTestModels.Decoder([8, 8, 16, 16, 16, 16], attentionLevels: 2));
        Assert.Equal(32, decoder.Config.SizeMultiple);
        using var pixel = TransparentTestModels.Random(7, 1, 3, h, w);
        using var latent = TransparentTestModels.Random(8, 1, 4, h / 8, w / 8);
        using var single = decoder.Forward(pixel, latent);
        using var aug = decoder.DecodeAugmented(pixel, latent);
        Assert.Equal([1, 4, h, w], single.Shape);
        Assert.Equal([1, 4, h, w], aug.Shape);
        Assert.All(B.ToHost(aug), v => Assert.InRange(v, 0f, 1f));

        // Forward on a padded size is the network on the mirror-padded inputs, cropped back.
        var pad = TransparentDecoder.Padding.For(h, w, 32);
        var (pp, pl) = decoder.PadForNetwork(pixel, latent, pad);
        Assert.Equal(0, pp.Dim(2) % 32);
        Assert.Equal(0, pp.Dim(3) % 32);
        Assert.Equal([pp.Dim(2) / 8, pp.Dim(3) / 8], pl.Shape[2..]);
        using var full = decoder.Forward(pp, pl);
        Assert.Equal(B.ToHost(decoder.CropFromNetwork(full, pad)), B.ToHost(single));
    }

    [Fact]
    public void PaddingIsInWholeLatentCellsAndCentred()
    {
        var p = TransparentDecoder.Padding.For(72, 128, 64);
        Assert.Equal(new TransparentDecoder.Padding(24, 32, 0, 0), p);
        Assert.True(TransparentDecoder.Padding.For(128, 64, 64).IsNone);
        var q = TransparentDecoder.Padding.For(8, 8, 64);
        Assert.Equal((24, 32), (q.Top, q.Bottom));
    }

    /// <summary>numpy's "symmetric" padding: index i maps into [0, n) by reflecting with period 2n.</summary>
    [Theory]
    [InlineData(3, 2, 5, 1, 0)]
    [InlineData(2, 3, 7, 9, 6)]
    [InlineData(4, 4, 0, 0, 0)]
    public void MirrorPadMatchesSymmetricReflection(int h, int w, int top, int bottom, int left)
    {
        int right = 3;
        using var x = TransparentTestModels.Random(9, 2, 1, h, w);
        var src = B.ToHost(x);
        using var y = TransparentDecoder.MirrorPad(B, x, top, bottom, left, right);
        int oh = h + top + bottom, ow = w + left + right;
        Assert.Equal([2, 1, oh, ow], y.Shape);
        var got = B.ToHost(y);
        static int Fold(int i, int n) { int m = ((i % (2 * n)) + 2 * n) % (2 * n); return m < n ? m : 2 * n - 1 - m; }
        for (int p = 0; p < 2; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    Assert.Equal(src[(p * h + Fold(i - top, h)) * w + Fold(j - left, w)], got[(p * oh + i) * ow + j]);
    }

    [Fact]
    public void InputsOfTheWrongShapeAreRejected()
    {
        var decoder = new TransparentDecoder(TransparentTestModels.Decoder([8, 8, 16, 16, 16], attentionLevels: 2));
        Assert.Throws<ArgumentException>(() => decoder.Forward(TransparentTestModels.Random(1, 1, 3, 20, 16), TransparentTestModels.Random(1, 1, 4, 2, 2)));
        Assert.Throws<ArgumentException>(() => decoder.Forward(TransparentTestModels.Random(1, 1, 3, 16, 16), TransparentTestModels.Random(1, 1, 4, 4, 4)));
        Assert.Throws<ArgumentException>(() => decoder.DecodeAugmented(TransparentTestModels.Random(1, 1, 4, 16, 16), TransparentTestModels.Random(1, 1, 4, 2, 2)));
    }
}
