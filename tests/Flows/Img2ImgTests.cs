using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Flows;

/// <summary>Transparent img2img: A1111's step arithmetic, the start latent, and what denoise does to a run.</summary>
public sealed class Img2ImgTests
{
    // A1111 setup_img2img_steps: t_enc = int(min(denoise, 0.999) * steps), start = steps - t_enc - 1.
    [Theory]
    [InlineData(20, 0.75, 4)]
    [InlineData(20, 1.0, 0)]
    [InlineData(20, 0.999, 0)]
    [InlineData(10, 0.7, 2)]     // 0.7 * 10 = 7.000000000000001 in double; float 0.7 would give 6
    [InlineData(20, 0.001, 19)]  // t_enc 0: a single step at the end of the schedule
    [InlineData(8, 0.5, 3)]
    [InlineData(1, 1.0, 0)]
    public void StartIndexFollowsA1111(int steps, double denoise, int start) =>
        Assert.Equal(start, TransparentImg2Img.StartIndex(steps, denoise));

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void DenoiseOutsideTheRangeIsAnError(double denoise)
    {
        var e = Assert.Throws<InvalidSettingException>(() => TransparentImg2Img.StartIndex(20, denoise));
        Assert.Equal("Denoise", e.Setting);
        Assert.DoesNotContain("--", e.Message);
    }

    [Fact]
    public void RunsTheLastStepsOfTheScheduleFromTheInitLatent()
    {
        using var models = FlowFixture.Models(LayerMethod.Attn);
        var pipeline = new LayerPipeline(models);
        var inputs = FlowFixture.Inputs("img2img");
        var sigmas = new List<float>();
        pipeline.StepCallback = s => sigmas.Add(s.Sigma);
        var low = pipeline.Run(FlowFixture.Settings("img2img", steps: 10) with { Denoise = 0.2 }, inputs);
        pipeline.StepCallback = null;
        var high = pipeline.Run(FlowFixture.Settings("img2img", steps: 10) with { Denoise = 1.0 }, inputs);

        // 10 steps at denoise 0.2: t_enc = 2, so 3 model steps from the full schedule's sigmas[7].
        var full = SigmaSchedules.Build(ScheduleKind.Normal, 10, DiscreteSchedule.Sdxl);
        Assert.Equal(full[7..10], sigmas);
        Assert.Equal(3, low.PatchedCalls.Count);
        Assert.Equal(10, high.PatchedCalls.Count);

        // Every step moves x by about Δσ·ε, so starting from σ ≈ 0.3 the latent moves a small fraction of what a run
        // from σ_max does (the random tiny UNet's ε is not small, so the move is compared, not bounded).
        var init = TransparentImg2Img.Latent(CpuBackend.Instance, models.Vae, models.Encoder, inputs.Init!, models.Family.LatentScale);
        double lowMove = FlowFixture.MaxAbsDiff(init, low.Latent), highMove = FlowFixture.MaxAbsDiff(init, high.Latent);
        Assert.True(lowMove < 0.15 * highMove, $"denoise 0.2 moved the latent {lowMove}, denoise 1 {highMove}");
    }

    /// <summary>UniPC (a timesteps sampler in A1111) runs int(denoise · steps) steps from the noised init.</summary>
    [Fact]
    public void UniPcRunsItsOwnImg2ImgSteps()
    {
        using var models = FlowFixture.Models(LayerMethod.Attn);
        var pipeline = new LayerPipeline(models);
        var inputs = FlowFixture.Inputs("img2img");
        var settings = FlowFixture.Settings("img2img", steps: 10) with { Sampler = "unipc", Denoise = 0.5 };
        var a = pipeline.Run(settings, inputs);
        var b = pipeline.Run(settings, inputs);
        Assert.Equal(5, a.PatchedCalls.Count);
        Assert.Equal(a.Images[0].Rgba, b.Images[0].Rgba);
        Assert.True(FlowFixture.DistinctAlphas(a.Images[0].Rgba!) > 2);
        var e = Assert.Throws<InvalidSettingException>(() => TransparentImg2Img.Validate(settings with { Denoise = 0.05 }));
        Assert.Equal("Denoise", e.Setting);
        // The API names settings as it spells them; the CLI says them as its options.
        Assert.EndsWith("raise Denoise or Steps", e.Message);
        Assert.EndsWith("raise --denoise or --steps", e.Render(Cli.SettingNames.Option));
    }

    [Fact]
    public void TheInitImageMatters()
    {
        using var models = FlowFixture.Models(LayerMethod.Attn);
        var pipeline = new LayerPipeline(models);
        var settings = FlowFixture.Settings("img2img", steps: 4) with { Denoise = 0.5 };
        var a = pipeline.Run(settings, FlowFixture.Inputs("img2img", variant: 1));
        var b = pipeline.Run(settings, FlowFixture.Inputs("img2img", variant: 2));
        Assert.True(FlowFixture.MaxAbsDiff(a.Latent, b.Latent) > 1e-3);
        Assert.NotEqual(a.Images[0].Rgba, b.Images[0].Rgba);
    }

    [Fact]
    public void TheEncoderOffsetIsPartOfTheStartLatent()
    {
        // Same colours, different alpha: grey-127 flattening and the offset both see the alpha, so the latents differ;
        // and a fully opaque image's latent is the VAE mean plus std · offset, not the bare mean.
        using var models = FlowFixture.Models(LayerMethod.Attn);
        var b = CpuBackend.Instance;
        var img = FlowFixture.Image(3, transparent: true);
        var z = TransparentImg2Img.Latent(b, models.Vae, models.Encoder, img, models.Family.LatentScale);
        var flattened = AlphaFlatten.ToSignedPlanar(AlphaFlatten.OverColor(img.Pixels, 64, 64), 64, 64);
        var (mean, _) = models.Vae.EncodeMoments(b.FromHost(flattened, 1, 3, 64, 64));
        var scaledMean = b.ToHost(mean).Select(v => v * models.Family.LatentScale).ToArray();
        Assert.Equal(4 * 8 * 8, z.Length);
        double d = FlowFixture.MaxAbsDiff(z, scaledMean);
        Assert.True(d > 1e-6 && d < 0.5 * z.Max(v => Math.Abs(v)), $"offset moved the latent by {d}");
    }

    [Fact]
    public void AnInitImageOfAnotherSizeIsFittedToTheGenerationSize()
    {
        var init = FlowFixture.Image(5, transparent: true, width: 96, height: 80);
        var fitted = TransparentImg2Img.Fit(init, 64, 64, ResizeMode.CropAndResize);
        Assert.Equal((64, 64), (fitted.Width, fitted.Height));
        Assert.True(FlowFixture.DistinctAlphas(fitted.Pixels) > 2);
        Assert.Same(init, TransparentImg2Img.Fit(init, 96, 80, ResizeMode.CropAndResize));

        // An opaque pixel keeps its colour through the premultiplied resize: a uniform opaque image stays uniform.
        var flat = new RgbaImage(40, 24, Enumerable.Range(0, 40 * 24).SelectMany(_ => new byte[] { 200, 30, 90, 255 }).ToArray());
        var resized = TransparentImg2Img.Fit(flat, 64, 64, ResizeMode.JustResize);
        for (int i = 0; i < resized.Pixels.Length; i += 4)
            Assert.Equal(new byte[] { 200, 30, 90, 255 }, resized.Pixels[i..(i + 4)]);

        using var models = FlowFixture.Models(LayerMethod.Attn);
        var r = new LayerPipeline(models).Run(FlowFixture.Settings("img2img", steps: 2) with { Denoise = 0.5 }, new GenerationInputs { Init = init });
        Assert.Equal(64 * 64 * 4, r.Images[0].Rgba!.Length);
    }

    [Fact]
    public void LayerMethodsAreNotImg2Img()
    {
        using var models = FlowFixture.Models(LayerMethod.Fg2Ble);
        var inputs = FlowFixture.Inputs("fg2ble") with { Init = FlowFixture.Image(1, transparent: true) };
        var e = Assert.Throws<InvalidSettingException>(() => new LayerPipeline(models).Run(FlowFixture.Settings("fg2ble"), inputs));
        Assert.Equal("Method", e.Setting);
    }
}
