using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Random;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// brownian_tree: Forge's DPM++ 2M SDE noise — one torchsde Brownian tree for the image seed over the smallest
/// positive and the largest of the given sigmas, queried at the given (sigma, sigma_next) pairs bit for bit — and a
/// whole DPM++ 2M SDE run on those sigmas with that noise, the tiny UNet and CFG.
/// </summary>
public sealed class BrownianTreeCase : ICaseRunner
{
    public string CaseName => "brownian_tree";

    public void Run(CaseContext ctx)
    {
        var s = ctx.Settings;
        // Only Forge's CPU source is in the golden data (its note names the source); anything else is not reproduced.
        if (s.TryGetProperty("rng_source", out var rng) && rng.GetString() is { } source && !source.StartsWith("CPU", StringComparison.Ordinal))
            throw new NotSupportedException($"RNG source '{source}' is not the CPU source this case runner reproduces");
        // Forge passes the batch's seeds, seed + i, one tree per image.
        long seed = s.GetProperty("seed").GetInt64();
        var noiseShape = ctx.InputShape("noise");
        var seeds = Enumerable.Range(0, noiseShape[0]).Select(i => seed + i).ToArray();
        int imageSize = noiseShape[1..].Aggregate(1, (a, b) => a * b);
        var sigmas = ctx.InputF32("sigmas");
        var pairs = ctx.InputF32("query_pairs");
        Func<long, int, float[]> randn = (intervalSeed, n) => new TorchCpuGenerator(intervalSeed).Randn(n);

        var brownian = BrownianStepNoise.ForSigmas(seeds, imageSize, sigmas, randn);
        int batchSize = seeds.Length * imageSize;
        var noises = new float[pairs.Length / 2 * batchSize];
        for (int q = 0; q < pairs.Length / 2; q++)
            brownian.Between(pairs[2 * q], pairs[2 * q + 1]).CopyTo(noises, q * batchSize);
        ctx.Emit("brownian_noises", noises);

        if (!SamplingCaseInputs.IsNoiseTimesSigma0(s)) return;
        var sampler = s.GetProperty("sampler");
        if (sampler.GetProperty("function").GetString() != "sample_dpmpp_2m_sde" || sampler.GetProperty("solver_type").GetString() != "midpoint"
            || sampler.GetProperty("eta").GetDouble() != 1 || sampler.GetProperty("s_noise").GetDouble() != 1)
            return; // another sampler configuration: leave the run unemitted (SKIP)

        var unet = SdxlUnet.Load(ctx.Backend, ctx.Checkpoint);
        var noise = ctx.InputF32("noise");
        using var guided = new GuidedDenoiser(unet, SamplingCaseInputs.Conditioning(ctx), SamplingCaseInputs.Cfg(ctx), SamplingCaseInputs.NoiseShape(ctx)[1..]);
        var model = guided.Model;
        var denoiser = new Denoiser(model, DiscreteSchedule.Sdxl, SamplingCaseInputs.Timesteps(s));
        float[]? denoised0 = null;
        var report = new StepReporter(sigmas.Length - 1, step => { if (step.Index == 0) denoised0 = (float[])step.Denoised.Clone(); }, default);
        var x = noise.Select(v => v * sigmas[0]).ToArray();
        var fresh = BrownianStepNoise.ForSigmas(seeds, imageSize, sigmas, randn);
        var result = KDiffusionSdeSamplers.DpmPp2mSde(denoiser, x, sigmas, fresh, report);
        ctx.Emit("dpmpp_2m_sde_brownian_out", result);
        ctx.Emit("dpmpp_2m_sde_brownian_denoised_step0", denoised0!);
    }
}
