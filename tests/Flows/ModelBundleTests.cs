using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Pipelines;
using Xunit;

namespace LayerDiffusion.Native.Tests.Flows;

/// <summary>
/// One resident copy of the UNet's weights: with Stop At 1 the original's copies of the patched tensors are freed
/// during the merge, and the unpatched UNet, when asked for again, is rebuilt exactly (its own tensors reloaded from
/// the checkpoint, the rest shared with the patched UNet).
/// </summary>
public sealed class ModelBundleTests
{
    private static readonly CpuBackend B = CpuBackend.Instance;

    private static float[] Eps(SdxlUnet unet, int seed)
    {
        int c = unet.InChannels, ctxWidth = unet.Config.ContextDim, adm = unet.Config.AdmInChannels;
        using var x = B.FromHost(NaiveOps.Rand(c * 8 * 8, seed), 1, c, 8, 8);
        using var ctx = B.FromHost(NaiveOps.Rand(77 * ctxWidth, seed + 1), 1, 77, ctxWidth);
        using var y = B.FromHost(NaiveOps.Rand(adm, seed + 2), 1, adm);
        using var eps = unet.Forward(x, [500f], ctx, y);
        return B.ToHost(eps);
    }

    private static PatchFile Patch(LayerMethod method) => PatchFile.Read(SafeTensorsFile.Open(TestPaths.Golden(FlowFixture.PatchFile(method))));

    [Theory]
    [InlineData(LayerMethod.Attn)]
    [InlineData(LayerMethod.Fg2Ble)]
    public void ReleasedOriginalIsRebuiltExactly(LayerMethod method)
    {
        using var fresh = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var reference = SdxlUnet.Load(B, fresh);
        var expectedOriginal = Eps(reference, 1);
        var expectedPatched = Eps(new SdxlUnet(reference.Config, PatchMerger.Apply(reference.Weights, Patch(method), 0.8f)), 2);

        using var models = FlowFixture.Models(method);
        var original = models.Unet;
        var replaced = Patch(method).Entries.Select(e => e.Target).ToArray();
        var patched = models.Patched(method, 0.8f, keepOriginal: false);
        Assert.Equal(expectedPatched, Eps(patched, 2));

        var rebuilt = models.Unet;
        Assert.NotSame(original, rebuilt);
        // The replaced tensors were reloaded (the old ones were freed); every other tensor is the patched UNet's.
        Assert.All(replaced, name => Assert.NotSame(original.Weights.Get(name), rebuilt.Weights.Get(name)));
        Assert.All(rebuilt.Weights.Names.Except(replaced), name => Assert.Same(patched.Weights.Get(name), rebuilt.Weights.Get(name)));
        Assert.Equal(expectedOriginal, Eps(rebuilt, 1));
        Assert.Same(patched, models.Patched(method, 0.8f)); // cached, and still valid
        Assert.Equal(expectedPatched, Eps(patched, 2));
    }

    [Fact]
    public void AnotherWeightMergesIntoTheRebuiltOriginal()
    {
        using var models = FlowFixture.Models(LayerMethod.Attn);
        models.Patched(LayerMethod.Attn, 1f, keepOriginal: false);
        var half = models.Patched(LayerMethod.Attn, 0.5f, keepOriginal: false);

        using var fresh = SafeTensorsFile.Open(TestPaths.Golden("tiny_sdxl.safetensors"));
        var reference = SdxlUnet.Load(B, fresh);
        var expected = new SdxlUnet(reference.Config, PatchMerger.Apply(reference.Weights, Patch(LayerMethod.Attn), 0.5f));
        Assert.Equal(Eps(expected, 3), Eps(half, 3));
        models.ReleaseUnets();
        Assert.Equal(Eps(reference, 4), Eps(models.Unet, 4)); // loads afresh after a full release
    }

    [Fact]
    public void StopAtOneGivesTheSameImageAsKeepingTheOriginal()
    {
        var settings = FlowFixture.Settings("attn");
        using var a = FlowFixture.Models(LayerMethod.Attn);
        var lean = new LayerPipeline(a).Run(settings, new GenerationInputs());
        using var b = FlowFixture.Models(LayerMethod.Attn);
        _ = b.Patched(LayerMethod.Attn, settings.Weight); // keeps the original: the reference arrangement
        var kept = new LayerPipeline(b).Run(settings, new GenerationInputs());
        Assert.Equal(kept.Latent, lean.Latent);
        Assert.All(lean.PatchedCalls, Assert.True);
    }
}
