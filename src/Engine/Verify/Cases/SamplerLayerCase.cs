using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// sampler_layer: sampling with a concat-conditioned layer model merged into the UNet and LayerDiffusion's
/// "Stop At": the patched UNet (with the concat latents) runs while σ ≥ percent_to_sigma(p), the original UNet
/// without them afterwards. Emits each run's latent, which steps were patched, and the switch sigmas.
/// </summary>
public sealed class SamplerLayerCase : ICaseRunner
{
    public string CaseName => "sampler_layer";

    public void Run(CaseContext ctx)
    {
        var s = ctx.Settings;
        var schedule = Models.ModelFamily.Detect(ctx.Checkpoint).Schedule;
        var runs = SamplingCaseInputs.StopAtRuns(ctx, schedule); // the switch points need no model
        if (!SamplingCaseInputs.IsNoiseTimesSigma0(s)) return;
        var settings = SamplingCaseInputs.Sampler(ctx);
        if (settings.Sampler.IsStochastic()) return; // no recorded step noise in this case
        float cfg = SamplingCaseInputs.Cfg(ctx);

        var b = ctx.Backend;
        var original = SdxlUnet.Load(b, ctx.Checkpoint);
        var patch = PatchFile.Read(ctx.Weights(s.GetProperty("patch").GetString()!));
        var patched = new SdxlUnet(original.Config, PatchMerger.Apply(original.Weights, patch, s.GetProperty("strength").GetSingle()));

        // The widened input conv says how many concat latents the layer model takes: inputs c1, c2, … in order.
        var noiseShape = SamplingCaseInputs.NoiseShape(ctx);
        int latentChannels = noiseShape[1];
        int concatCount = (patched.InChannels - latentChannels) / latentChannels;
        var noise = ctx.InputF32("noise");
        foreach (var (name, stopAt) in runs)
        {
            var concat = Enumerable.Range(1, concatCount).Select(i => ctx.InputTensor($"c{i}", b)).ToArray();
            using var denoiser = new GuidedDenoiser(patched, SamplingCaseInputs.Conditioning(ctx), cfg, noiseShape[1..], concat,
                new StopAt(original, stopAt, schedule));
            SamplingCaseInputs.EmitStopAtRun(ctx, name, settings, schedule, denoiser, noise);
        }
    }
}
