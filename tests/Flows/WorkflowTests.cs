using LayerDiffusion.Native.Pipelines;
using Xunit;

namespace LayerDiffusion.Native.Tests.Flows;

/// <summary>
/// Every workflow end to end on the golden tiny models (prompt → RGBA/RGB bytes), checking what each one must do:
/// transparent methods give a real alpha, the layer models read their condition images, "Stop At" switches models,
/// runs are reproducible, and a single condition image serves a whole batch.
/// </summary>
public sealed class WorkflowTests
{
    public static TheoryData<string> AllFlows() => new(FlowFixture.AllFlows);
    public static TheoryData<string> LayerFlows() => new("fg2ble", "bg2ble", "fgble2bg", "bgble2fg");

    private static GenerationResult Run(string flow, GenerationSettings? settings = null, GenerationInputs? inputs = null)
    {
        using var models = FlowFixture.Models(FlowFixture.MethodOf(flow));
        return new LayerPipeline(models).Run(settings ?? FlowFixture.Settings(flow), inputs ?? FlowFixture.Inputs(flow));
    }

    [Theory]
    [InlineData("attn")]
    [InlineData("conv")]
    [InlineData("bgble2fg")]
    [InlineData("img2img")]
    public void TransparentFlowsGiveAnAlphaThatVaries(string flow)
    {
        var r = Run(flow);
        var img = Assert.Single(r.Images);
        Assert.NotNull(img.Rgba);
        Assert.Equal(64 * 64 * 4, img.Rgba!.Length);
        Assert.Equal(64 * 64 * 3, img.Preview!.Length);
        Assert.True(FlowFixture.DistinctAlphas(img.Rgba) > 1, $"{flow}: alpha is constant");
    }

    [Theory]
    [InlineData("fg2ble")]
    [InlineData("bg2ble")]
    [InlineData("fgble2bg")]
    public void OpaqueLayerFlowsSkipTheTransparentDecoder(string flow)
    {
        var img = Assert.Single(Run(flow).Images);
        Assert.Null(img.Rgba);
        Assert.Null(img.Preview);
        Assert.Equal(64 * 64 * 3, img.Rgb.Length);
    }

    [Theory]
    [MemberData(nameof(LayerFlows))]
    public void LayerModelsReadTheirConditionImages(string flow)
    {
        using var models = FlowFixture.Models(FlowFixture.MethodOf(flow));
        var pipeline = new LayerPipeline(models);
        var a = pipeline.Run(FlowFixture.Settings(flow), FlowFixture.Inputs(flow, variant: 1));
        var b = pipeline.Run(FlowFixture.Settings(flow), FlowFixture.Inputs(flow, variant: 2));
        Assert.True(FlowFixture.MaxAbsDiff(a.Latent, b.Latent) > 1e-3, $"{flow}: the condition images did not change the latent");
        Assert.NotEqual(a.Images[0].Rgb, b.Images[0].Rgb);
    }

    [Theory]
    [MemberData(nameof(AllFlows))]
    public void StopAtSwitchesToTheUnpatchedModel(string flow)
    {
        using var models = FlowFixture.Models(FlowFixture.MethodOf(flow));
        var pipeline = new LayerPipeline(models);
        var full = pipeline.Run(FlowFixture.Settings(flow, steps: 4), FlowFixture.Inputs(flow));
        var half = pipeline.Run(FlowFixture.Settings(flow, steps: 4) with { StopAt = 0.5f }, FlowFixture.Inputs(flow));

        Assert.Equal(4, full.PatchedCalls.Count);
        Assert.All(full.PatchedCalls, Assert.True);
        // percent_to_sigma(0.5) ≈ 1.616: steps at t = 999 and 666 run patched, t = 333 and 0 (σ < 1.6) do not.
        Assert.Equal([true, true, false, false], half.PatchedCalls);
        Assert.True(FlowFixture.MaxAbsDiff(full.Latent, half.Latent) > 1e-4, $"{flow}: Stop At 0.5 gave the Stop At 1 latent");
    }

    [Theory]
    [MemberData(nameof(AllFlows))]
    public void TheSameSeedGivesTheSameBytes(string flow)
    {
        using var models = FlowFixture.Models(FlowFixture.MethodOf(flow));
        var pipeline = new LayerPipeline(models);
        var settings = FlowFixture.Settings(flow, steps: 2) with { Sampler = "euler_a" };
        var a = pipeline.Run(settings, FlowFixture.Inputs(flow)).Images[0];
        var b = pipeline.Run(settings, FlowFixture.Inputs(flow)).Images[0];
        var c = pipeline.Run(settings with { Seed = settings.Seed + 1 }, FlowFixture.Inputs(flow)).Images[0];
        Assert.Equal(a.Rgb, b.Rgb);
        Assert.Equal(a.Rgba, b.Rgba);
        Assert.NotEqual(a.Rgb, c.Rgb);
    }

    [Theory]
    [MemberData(nameof(LayerFlows))]
    public void OneConditionImageServesABatch(string flow)
    {
        using var models = FlowFixture.Models(FlowFixture.MethodOf(flow));
        var pipeline = new LayerPipeline(models);
        var single = pipeline.Run(FlowFixture.Settings(flow), FlowFixture.Inputs(flow));
        var batch = pipeline.Run(FlowFixture.Settings(flow) with { Batch = 2 }, FlowFixture.Inputs(flow));

        Assert.Equal(2, batch.Images.Count);
        Assert.Equal([12345L, 12346L], batch.Images.Select(i => i.Seed));
        Assert.NotEqual(batch.Images[0].Rgb, batch.Images[1].Rgb);
        // Image 0 has seed 12345 like the single run, and the broadcast condition is the same, so the latents agree
        // (up to the batched matrix products' summation order).
        int per = single.Latent.Length;
        Assert.Equal(2 * per, batch.Latent.Length);
        Assert.True(FlowFixture.MaxAbsDiff(single.Latent, batch.Latent[..per]) < 1e-4, $"{flow}: batch image 0 differs from the single run");
        Assert.True(FlowFixture.MaxAbsDiff(single.Latent, batch.Latent[per..]) > 1e-3, $"{flow}: batch image 1 repeats image 0");
    }
}
