using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

/// <summary>
/// Forge's DDIM (modules/sd_samplers_timesteps_impl.py ddim, eta 0) against its formulas: the timestep grid
/// clip(range(0, 1000, 1000 // steps) + 1, 0, 999), len − 1 model calls from the top, each step
/// x ← √ᾱ_prev·(x − √(1 − ᾱ_t)·ε)/√ᾱ_t + √(1 − ᾱ_prev)·ε with ᾱ = 1/(σ² + 1), and convergence to the ODE solution.
/// </summary>
public sealed class DdimSamplerTests
{
    private static readonly DiscreteSchedule Sdxl = DiscreteSchedule.Sdxl;

    [Theory]
    [InlineData(8, new[] { 876, 751, 626, 501, 376, 251, 126 })]
    [InlineData(7, new[] { 995, 853, 711, 569, 427, 285, 143 })]
    [InlineData(2, new[] { 501 })]
    public void CallsTheModelAtForgesTimesteps(int steps, int[] want)
    {
        var timesteps = new List<float>();
        var sigmas = new List<float>();
        EpsModel model = (x, t, s) => { timesteps.Add(t); sigmas.Add(s); return GaussianData.Eps(x, t, s); };
        var progress = new List<SamplerStep>();
        Sampler.Run(new SamplerSettings(SamplerKind.Ddim, ScheduleKind.Normal, steps), Sdxl, model, GaussianData.Noise(8), callback: progress.Add);
        Assert.Equal(want.Select(t => (float)t), timesteps);
        Assert.Equal(want.Select(t => Sdxl.Sigmas[t]), sigmas);
        Assert.Equal(want.Length, progress.Count);
        Assert.All(progress, p => Assert.Equal(want.Length, p.Total));
    }

    [Fact]
    public void OneStepByHand()
    {
        const float eps = 0.25f;
        EpsModel model = (x, t, s) => Enumerable.Repeat(eps, x.Length).ToArray();
        var noise = GaussianData.Noise(16);
        var got = Sampler.Run(new SamplerSettings(SamplerKind.Ddim, ScheduleKind.Normal, 2), Sdxl, model, noise);
        // steps 2: ts = [1, 501]; one step from 501 to 1.
        double at = 1 / (Sdxl.Sigmas[501] * (double)Sdxl.Sigmas[501] + 1), ap = 1 / (Sdxl.Sigmas[1] * (double)Sdxl.Sigmas[1] + 1);
        for (int i = 0; i < noise.Length; i++)
        {
            double x0 = (noise[i] - Math.Sqrt(1 - at) * eps) / Math.Sqrt(at);
            Assert.Equal(Math.Sqrt(ap) * x0 + Math.Sqrt(1 - ap) * eps, got[i], 2e-6);
        }
    }

    [Fact]
    public void ConvergesToTheOdeSolutionAtTimestepOne()
    {
        var noise = GaussianData.Noise(256);
        double Error(int steps)
        {
            var got = Sampler.Run(new SamplerSettings(SamplerKind.Ddim, ScheduleKind.Normal, steps), Sdxl, GaussianData.Eps, noise);
            int[] ts = DdimSampler.Timesteps(steps);
            double sStart = Sdxl.Sigmas[ts[^1]], sEnd = Sdxl.Sigmas[ts[0]], err = 0;
            for (int i = 0; i < noise.Length; i++)
            {
                // DDIM's x is the VP x_t = x_k/√(σ² + 1); the ODE runs on the k-diffusion x.
                double end = GaussianData.Flow(noise[i] * Math.Sqrt(sStart * sStart + 1), sStart, sEnd) / Math.Sqrt(sEnd * sEnd + 1);
                err = Math.Max(err, Math.Abs(got[i] - end));
            }
            return err;
        }
        // First order, like Euler (see below): measured 0.02 at 200 steps for x_T up to ~4.
        double e10 = Error(10), e40 = Error(40), e200 = Error(200);
        Assert.True(e40 < e10 / 2, $"{e10} -> {e40}");
        Assert.True(e200 < e40 / 2, $"{e40} -> {e200}");
        Assert.True(e200 < 0.03, $"error at 200 steps {e200}");
    }

    [Fact]
    public void DdimIsEulerInKDiffusionVariables()
    {
        // With x_k = x·√(σ² + 1), DDIM's step is x_k ← x_k + ε·(σ_prev − σ): Euler on the sigmas of its timesteps.
        var noise = GaussianData.Noise(64);
        const int steps = 12;
        var ddim = Sampler.Run(new SamplerSettings(SamplerKind.Ddim, ScheduleKind.Normal, steps), Sdxl, GaussianData.Eps, noise);
        var sigmas = DdimSampler.Sigmas(Sdxl, steps);
        var xk = noise.Select(v => (float)(v * Math.Sqrt((double)sigmas[0] * sigmas[0] + 1))).ToArray();
        var euler = KDiffusionSamplers.Euler(new Denoiser(GaussianData.Eps, Sdxl), xk, sigmas, new StepReporter(steps, null, default));
        double scale = Math.Sqrt((double)sigmas[^1] * sigmas[^1] + 1);
        for (int i = 0; i < noise.Length; i++) Assert.Equal(euler[i] / scale, ddim[i], 1e-4 * (1 + Math.Abs(ddim[i])));
    }

    [Fact]
    public void Img2ImgStartsAtTEncAndStepsFromTheTimestepBelow()
    {
        // steps 10, start index 3 → t_enc 6: x = init·√ᾱ[ts[6]] + noise·√(1 − ᾱ[ts[6]]), then ts[5] … ts[1].
        var timesteps = new List<float>();
        var inputs = new List<float[]>();
        EpsModel model = (x, t, s) => { timesteps.Add(t); inputs.Add((float[])x.Clone()); return new float[x.Length]; };
        var noise = GaussianData.Noise(8);
        var init = GaussianData.Noise(8, seed: 2);
        Sampler.Run(new SamplerSettings(SamplerKind.Ddim, ScheduleKind.Normal, 10), Sdxl, model, noise, init, startIndex: 3);
        Assert.Equal([501f, 401f, 301f, 201f, 101f], timesteps);
        double a = 1 / (Sdxl.Sigmas[601] * (double)Sdxl.Sigmas[601] + 1);
        for (int i = 0; i < 8; i++) Assert.Equal(init[i] * Math.Sqrt(a) + noise[i] * Math.Sqrt(1 - a), inputs[0][i], 2e-6);
    }

    [Fact]
    public void OneStepIsAnError() =>
        Assert.Contains("DDIM", Assert.Throws<InvalidOptionException>(() => SamplerSettings.Parse("ddim", null, 1)).Message);
}
