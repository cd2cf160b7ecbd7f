using System.Text.Json;
using LayerDiffusion.Native.LayerDiffusion.Sd15;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// sd15_sampler_joint: sampling the frames of an attention-sharing method as one batch (row f = frame f), CFG on
/// [x, x] with the per-frame overwrites on the positive rows, and Stop At: the hooked UNet while σ ≥
/// percent_to_sigma(p), the plain UNet (same batch and contexts, no overwrite) afterwards. Emits each run's latent,
/// which steps were patched, the sigmas and the switch sigmas.
/// </summary>
public sealed class Sd15SamplerJointCase : ICaseRunner
{
    public string CaseName => "sd15_sampler_joint";

    public void Run(CaseContext ctx)
    {
        var s = ctx.Settings;
        var b = ctx.Backend;
        var family = Models.ModelFamily.Detect(ctx.Checkpoint);
        var schedule = family.Schedule;
        var runs = SamplingCaseInputs.StopAtRuns(ctx, schedule);
        if (!SamplingCaseInputs.IsNoiseTimesSigma0(s)) return;
        var settings = SamplingCaseInputs.Sampler(ctx);
        if (ctx.Wants("sigmas")) ctx.Emit("sigmas", Sampler.Sigmas(settings, schedule));
        if (settings.Sampler.IsStochastic()) return; // no recorded step noise in this case
        float cfg = SamplingCaseInputs.Cfg(ctx);

        var unet = SdxlUnet.Load(b, ctx.Checkpoint, family);
        using var model = AttentionSharingModel.Load(b, ctx.Weights(s.GetProperty("patch").GetString()!), unet);
        var noiseShape = SamplingCaseInputs.NoiseShape(ctx);
        int batch = noiseShape[0];
        if (batch % model.Frames != 0) throw new InvalidOperationException($"a batch of {batch} is not groups of {model.Frames} frames");
        var noise = ctx.InputF32("noise");
        foreach (var (name, stopAt) in runs)
        {
            var overwrites = s.GetProperty("cond_overwrite").EnumerateArray()
                .Select(o => o.ValueKind == JsonValueKind.String ? ctx.InputTensor(o.GetString()!, b) : null).ToArray();
            using var run = new AttentionSharingRun(model, unet, overwrites, []);
            using var denoiser = new GuidedDenoiser(run.Unet, Conditioning(ctx, batch), cfg, noiseShape[1..], null,
                new StopAt(unet, stopAt, schedule), run.OnRows);
            SamplingCaseInputs.EmitStopAtRun(ctx, name, settings, schedule, denoiser, noise);
        }
    }

    /// <summary>context_negative / context_positive [1, N, D] repeated over the batch.</summary>
    private static CfgConditioning Conditioning(CaseContext ctx, int batch)
    {
        var neg = ctx.InputF32("context_negative");
        var pos = ctx.InputF32("context_positive");
        var shape = ctx.InputShape("context_positive");
        if (!shape.SequenceEqual(ctx.InputShape("context_negative"))) throw new InvalidOperationException("the two contexts differ in shape");
        var both = new float[2 * batch * neg.Length];
        for (int i = 0; i < batch; i++)
        {
            neg.CopyTo(both, i * neg.Length);
            pos.CopyTo(both, (batch + i) * neg.Length);
        }
        return CfgConditioning.FromCfgBatch(ctx.Backend, both, [2 * batch, shape[1], shape[2]], null, null);
    }
}
