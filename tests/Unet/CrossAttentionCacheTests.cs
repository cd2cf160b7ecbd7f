using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.Unet;

/// <summary>
/// The cross-attention K/V cache (Backends/ConstantProducts) on the CPU reference with the golden tiny UNet: a held
/// context's K = context·Wk and V = context·Wv are computed at the first forward and served afterwards, bit for bit
/// what computing them gives, and nothing else is served (another context, the self-attention, after the hold ends).
/// </summary>
public sealed class CrossAttentionCacheTests
{
    private static readonly CpuBackend B = CpuBackend.Instance;

    private static float[] Ramp(int n, float scale, float phase = 0) => Enumerable.Range(0, n).Select(i => MathF.Sin(i * 0.37f + phase) * scale).ToArray();

    [Fact]
    public void HeldContextsKvAreComputedOnceAndGiveTheSameEps()
    {
        using var f = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var unet = SdxlUnet.Load(B, f);
        var c = unet.Config;
        int crossAttentionLayers = c.InputDepths.Sum() + c.MiddleDepth + c.OutputDepths.Sum();
        Assert.True(crossAttentionLayers > 0);
        int h = 6, w = 5;
        using var scope = TensorScope.Open();
        var ctx = B.FromHost(Ramp(2 * 77 * c.ContextDim, 0.5f), 2, 77, c.ContextDim);
        var otherCtx = B.FromHost(Ramp(2 * 77 * c.ContextDim, 0.5f, phase: 1f), 2, 77, c.ContextDim);
        var y = B.FromHost(Ramp(2 * c.AdmInChannels, 0.5f), 2, c.AdmInChannels);
        float[] Eps(float phase, float t, Tensor context) =>
            B.ToHost(unet.Forward(B.FromHost(Ramp(2 * 4 * h * w, 1f, phase), 2, 4, h, w), [t, t], context, y));

        var uncachedFirst = Eps(0f, 999f, ctx);
        var uncachedSecond = Eps(2f, 400.5f, ctx);
        var uncachedOther = Eps(2f, 400.5f, otherCtx);

        float[] first, second, other;
        long keptAfterFirst, hitsAfterSecond;
        using (var hold = B.Products.Hold([ctx]))
        {
            first = Eps(0f, 999f, ctx);
            keptAfterFirst = hold.Kept;
            Assert.Equal(0, hold.Hits);
            second = Eps(2f, 400.5f, ctx);
            hitsAfterSecond = hold.Hits;
            other = Eps(2f, 400.5f, otherCtx); // not held: computed as usual
            Assert.Equal(hitsAfterSecond, hold.Hits);
        }
        Assert.Equal(2 * crossAttentionLayers, keptAfterFirst);  // K and V of every cross-attention layer
        Assert.Equal(2 * crossAttentionLayers, hitsAfterSecond); // 2 GEMMs per layer saved per later step
        Assert.Equal(uncachedFirst, first);
        Assert.Equal(uncachedSecond, second);
        Assert.Equal(uncachedOther, other);
        Assert.NotEqual(uncachedSecond, uncachedOther);
    }
}
