using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Models.Vae;
using Xunit;

namespace LayerDiffusion.Native.Tests.Unet;

/// <summary>Sizes the golden cases do not cover: latents not divisible by 4, longer contexts, batch 1.</summary>
public sealed class UnetShapeTests
{
    private static readonly CpuBackend B = CpuBackend.Instance;

    private static float[] Ramp(int n, float scale) => Enumerable.Range(0, n).Select(i => MathF.Sin(i * 0.37f) * scale).ToArray();

    [Theory]
    [InlineData(1, 18, 14, 77)]   // 144×112 px: 18 → 9 → 5 and back up through crops
    [InlineData(2, 9, 11, 154)]  // odd sizes at every level, two 77-token chunks
    public void OddLatentSizesAndLongContextsRun(int batch, int h, int w, int tokens)
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var unet = SdxlUnet.Load(B, f);
        var c = unet.Config;
        var x = B.FromHost(Ramp(batch * 4 * h * w, 1f), batch, 4, h, w);
        var ctx = B.FromHost(Ramp(batch * tokens * c.ContextDim, 0.5f), batch, tokens, c.ContextDim);
        var y = B.FromHost(Ramp(batch * c.AdmInChannels, 0.5f), batch, c.AdmInChannels);
        var eps = unet.Forward(x, Enumerable.Range(0, batch).Select(i => 999.5f - 300 * i).ToArray(), ctx, y);
        Assert.Equal([batch, 4, h, w], eps.Shape);
        Assert.All(B.ToHost(eps), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void RowsOfABatchAreIndependent()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var unet = SdxlUnet.Load(B, f);
        var c = unet.Config;
        int h = 8, w = 8;
        var xs = Ramp(2 * 4 * h * w, 1f);
        var ctxs = Ramp(2 * 77 * c.ContextDim, 0.5f);
        var ys = Ramp(2 * c.AdmInChannels, 0.5f);
        float[] t = [10f, 500.25f];
        var both = B.ToHost(unet.Forward(B.FromHost(xs, 2, 4, h, w), t, B.FromHost(ctxs, 2, 77, c.ContextDim), B.FromHost(ys, 2, c.AdmInChannels)));
        var second = B.ToHost(unet.Forward(B.FromHost(xs.AsSpan(4 * h * w), 1, 4, h, w), [t[1]],
            B.FromHost(ctxs.AsSpan(77 * c.ContextDim), 1, 77, c.ContextDim), B.FromHost(ys.AsSpan(c.AdmInChannels), 1, c.AdmInChannels)));
        for (int i = 0; i < second.Length; i++) Assert.Equal(second[i], both[4 * h * w + i], 5);
    }

    [Fact]
    public void VaeRoundTripsShapes()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var vae = SdxlVae.Load(B, f);
        var px = vae.Decode(B.FromHost(Ramp(4 * 6 * 5, 1f), 1, 4, 6, 5));
        Assert.Equal([1, 3, 48, 40], px.Shape);
        var (mean, logVar) = vae.EncodeMoments(px);
        Assert.Equal([1, 4, 6, 5], mean.Shape);
        Assert.All(B.ToHost(logVar), v => Assert.InRange(v, -30f, 20f));
    }
}
