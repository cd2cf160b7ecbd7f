using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// sampler_unipc: Forge's UniPC (settings.variant, order, skip_type, lower_order_final) driving the tiny UNet with
/// CFG on ε from x_T = noise; also the VP ᾱ table, every UNet timestep, and the data prediction after step 1.
/// </summary>
public sealed class SamplerUnipcCase : ICaseRunner
{
    public string CaseName => "sampler_unipc";

    public void Run(CaseContext ctx)
    {
        var s = ctx.Settings;
        var vp = new NoiseScheduleVp(Models.ModelFamily.Detect(ctx.Checkpoint).Schedule);
        if (ctx.Wants("alphas_cumprod_vp")) ctx.Emit("alphas_cumprod_vp", vp.AlphasCumprod);

        // Only the configuration this engine implements is reproduced; anything else stays unemitted (SKIP).
        if (s.GetProperty("variant").GetString() != "bh1" || s.GetProperty("skip_type").GetString() != "time_uniform"
            || s.TryGetProperty("x_T", out var xT) && xT.GetString() != "noise")
            return;
        int order = s.GetProperty("order").GetInt32();
        bool lowerOrderFinal = s.GetProperty("lower_order_final").GetBoolean();
        int steps = SamplingCaseInputs.Steps(ctx);

        var unet = SdxlUnet.Load(ctx.Backend, ctx.Checkpoint);
        using var denoiser = new GuidedDenoiser(unet, SamplingCaseInputs.Conditioning(ctx), SamplingCaseInputs.Cfg(ctx), SamplingCaseInputs.NoiseShape(ctx)[1..]);
        var unetTimesteps = new List<float>();
        EpsModel model = (x, t, sigma) => { unetTimesteps.Add(t); return denoiser.Model(x, t, sigma); };

        float[]? x0AfterStep1 = null;
        var report = new StepReporter(steps, step => { if (step.Index == 0) x0AfterStep1 = (float[])step.Denoised.Clone(); }, default);
        var result = new UniPcSampler(model, vp).Sample(ctx.InputF32("noise"), steps, report, order, lowerOrderFinal);

        ctx.Emit("out", result);
        ctx.Emit("unet_timesteps", unetTimesteps.ToArray());
        if (x0AfterStep1 is not null) ctx.Emit("x0_after_step1", x0AfterStep1);
    }
}
