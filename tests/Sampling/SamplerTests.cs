using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

/// <summary>
/// Samplers driven by the exact ε model of Gaussian data (<see cref="GaussianData"/>): deterministic samplers must
/// land on the closed-form ODE solution, stochastic ones must produce samples with mean μ and standard deviation s.
/// </summary>
public sealed class SamplerTests
{
    private const float Mu = GaussianData.Mu, S = GaussianData.S;
    private static readonly DiscreteSchedule Sdxl = DiscreteSchedule.Sdxl;
    private static float[] GaussianEps(float[] xIn, float timestep, float sigma) => GaussianData.Eps(xIn, timestep, sigma);

    private static float[] Noise(int n, long seed = 1) => GaussianData.Noise(n, seed);

    private static double MaxError(SamplerKind kind, int steps, float[] noise)
    {
        var settings = new SamplerSettings(kind, kind.DefaultSchedule(), steps);
        var got = Sampler.Run(settings, Sdxl, GaussianEps, noise);
        double err = 0;
        for (int i = 0; i < noise.Length; i++) err = Math.Max(err, Math.Abs(got[i] - ExactOdeEnd(kind, noise[i])));
        return err;
    }

    private static double ExactOdeEnd(SamplerKind kind, float noise)
    {
        double sMax = Sdxl.SigmaMax, s2 = S * S;
        if (kind != SamplerKind.UniPc)
        {
            double xT = noise * (double)(float)sMax; // x_T = noise·σ_0, ends at σ = 0
            return Mu + Math.Sqrt(s2) / Math.Sqrt(s2 + sMax * sMax) * (xT - Mu);
        }
        // UniPC starts from the VP x_T = noise (x = noise·√(σ_T² + 1)) and stops at t = 1/N (σ_min), returning the VP x.
        var vp = new NoiseScheduleVp(Sdxl);
        double sigmaT = vp.KSigma(1.0), sigma0 = vp.KSigma(0.001f);
        double x = noise * Math.Sqrt(sigmaT * sigmaT + 1);
        double end = Mu + Math.Sqrt(s2 + sigma0 * sigma0) / Math.Sqrt(s2 + sigmaT * sigmaT) * (x - Mu);
        return end / Math.Sqrt(sigma0 * sigma0 + 1);
    }

    // Worst-element errors (x_T up to ~50) with each sampler's default schedule. The k-diffusion runs end with a
    // step to σ = 0 that returns D(σ_min), a floor of ≈ σ_min²/(2s²)·|x0 − μ| ≈ 3e-3; UniPC's time-uniform grid
    // leaves one long first-order step at the end, so it converges at first order overall.
    [Theory]
    [InlineData(SamplerKind.Euler, 0.15, 0.04)]
    [InlineData(SamplerKind.DpmPp2m, 0.005, 0.005)]
    [InlineData(SamplerKind.UniPc, 0.06, 0.01)]
    // LMS extrapolates its last step instead of returning D(σ_min), so it has no floor (measured 1.1e-3 and 2e-5).
    [InlineData(SamplerKind.Lms, 0.003, 1e-4)]
    [InlineData(SamplerKind.Heun, 0.005, 0.005)]
    [InlineData(SamplerKind.Dpm2, 0.004, 0.005)]
    public void DeterministicSamplersConvergeToTheOdeSolution(SamplerKind kind, double tolAt40, double tolAt160)
    {
        var noise = Noise(512);
        double e10 = MaxError(kind, 10, noise), e40 = MaxError(kind, 40, noise), e160 = MaxError(kind, 160, noise);
        Assert.True(e40 < tolAt40, $"{kind}: max error at 40 steps {e40}");
        Assert.True(e160 < tolAt160, $"{kind}: max error at 160 steps {e160}");
        Assert.True(e40 < e10 / 2, $"{kind}: error does not shrink with steps ({e10} -> {e40})");
    }

    [Fact]
    public void HigherOrderSamplersBeatEuler()
    {
        var noise = Noise(256);
        Assert.True(MaxError(SamplerKind.DpmPp2m, 20, noise) < MaxError(SamplerKind.Euler, 20, noise) / 5);
        Assert.True(MaxError(SamplerKind.UniPc, 20, noise) < MaxError(SamplerKind.Euler, 20, noise) / 1.5);
        foreach (var kind in new[] { SamplerKind.Lms, SamplerKind.Heun, SamplerKind.Dpm2 })
            Assert.True(MaxError(kind, 20, noise) < MaxError(SamplerKind.Euler, 20, noise) / 5, $"{kind}");
    }

    [Theory]
    [InlineData(SamplerKind.EulerAncestral)]
    [InlineData(SamplerKind.DpmPp2mSde)]
    [InlineData(SamplerKind.Dpm2Ancestral)]
    [InlineData(SamplerKind.DpmPp2sAncestral)]
    [InlineData(SamplerKind.DpmPpSde)]
    [InlineData(SamplerKind.DpmPp2mSdeHeun)]
    [InlineData(SamplerKind.DpmPp3mSde)]
    [InlineData(SamplerKind.Lcm)]
    public void StochasticSamplersSampleTheDataDistribution(SamplerKind kind)
    {
        const int n = 1 << 15;
        var settings = new SamplerSettings(kind, ScheduleKind.Karras, 60);
        var source = new SeededNoiseSource(123, 1, [n], RngSource.Cpu);
        var noise = source.Next();
        var sigmas = Sampler.Sigmas(settings, Sdxl);
        var got = Sampler.Run(settings, Sdxl, GaussianEps, noise, StepNoise.For(settings, source, sigmas));
        double mean = got.Average(v => (double)v);
        double sd = Math.Sqrt(got.Average(v => (v - mean) * (v - mean)));
        Assert.True(Math.Abs(mean - Mu) < 0.015, $"{kind}: mean {mean}");
        // Euler a is first order and biased low at 60 steps, and LCM does not sample the data distribution at all;
        // their exact discrete variances are known in closed form.
        double wantSd = kind switch
        {
            SamplerKind.EulerAncestral => EulerAncestralSd(sigmas),
            SamplerKind.Lcm => LcmSd(sigmas),
            _ => S,
        };
        Assert.True(Math.Abs(sd / wantSd - 1) < 0.02, $"{kind}: sd {sd}, want {wantSd}");
        // and the result is not just the deterministic flow of the initial noise
        double flowCorrelation = Correlation(got, noise);
        Assert.True(flowCorrelation < 0.9, $"{kind}: correlation with the initial noise {flowCorrelation}");
    }

    /// <summary>Var(x − μ) through Euler a's linear steps for Gaussian data, from x_T = noise·σ_0.</summary>
    private static double EulerAncestralSd(float[] sigmas)
    {
        double v = (double)sigmas[0] * sigmas[0], s2 = S * S;
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            var (down, up) = KDiffusionSamplers.AncestralStep(sigmas[i], sigmas[i + 1], 1f);
            double a = sigmas[i], f = 1 + a * (down - a) / (s2 + a * a);
            v = v * f * f + (double)up * up;
        }
        return Math.Sqrt(v);
    }

    /// <summary>Var(x − μ) through LCM's steps x ← D(x) + σ_next·N for Gaussian data, from x_T = noise·σ_0.</summary>
    private static double LcmSd(float[] sigmas)
    {
        double v = (double)sigmas[0] * sigmas[0], s2 = S * S;
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            double f = s2 / (s2 + (double)sigmas[i] * sigmas[i]);
            v = v * f * f + (double)sigmas[i + 1] * sigmas[i + 1];
        }
        return Math.Sqrt(v);
    }

    private static double Correlation(float[] a, float[] b)
    {
        double ma = a.Average(v => (double)v), mb = b.Average(v => (double)v), c = 0, va = 0, vb = 0;
        for (int i = 0; i < a.Length; i++) { c += (a[i] - ma) * (b[i] - mb); va += (a[i] - ma) * (a[i] - ma); vb += (b[i] - mb) * (b[i] - mb); }
        return c / Math.Sqrt(va * vb);
    }

    [Theory]
    [InlineData("Euler a")]
    [InlineData("DPM++ 2M SDE Karras")]
    [InlineData("DPM++ 2M")]
    [InlineData("UniPC")]
    [InlineData("DPM++ SDE")]
    [InlineData("DPM++ 3M SDE")]
    [InlineData("DPM2 a")]
    [InlineData("DPM++ 2S a")]
    [InlineData("LCM")]
    [InlineData("DDIM")]
    public void SameSeedSameImage(string name)
    {
        float[] Run(long seed)
        {
            var settings = SamplerSettings.Parse(name, null, 6);
            var source = new SeededNoiseSource(seed, 2, [4, 8, 8], RngSource.Gpu);
            var noise = source.Next();
            return Sampler.Run(settings, Sdxl, GaussianEps, noise, StepNoise.For(settings, source, Sampler.Sigmas(settings, Sdxl)));
        }
        Assert.Equal(Run(77), Run(77));
        Assert.NotEqual(Run(77), Run(78));
    }

    [Fact]
    public void EulerStepsAreKDiffusionSteps()
    {
        // One step by hand: x1 = x0 + (x0 − D)/σ0·(σ1 − σ0), and the last step returns D exactly.
        var settings = new SamplerSettings(SamplerKind.Euler, ScheduleKind.Normal, 2);
        var sigmas = Sampler.Sigmas(settings, Sdxl);
        var noise = Noise(64);
        var timesteps = new List<float>();
        var denoised = new List<float[]>();
        EpsModel model = (x, t, s) => { timesteps.Add(t); return GaussianEps(x, t, s); };
        var got = Sampler.Run(settings, Sdxl, model, noise, callback: step => denoised.Add(step.Denoised));
        Assert.Equal([999f, 0f], timesteps);
        Assert.Equal(2, denoised.Count);
        Assert.Equal(denoised[1], got);
        float s0 = sigmas[0], s1 = sigmas[1];
        var x0 = noise.Select(v => v * s0).ToArray();
        for (int i = 0; i < 64; i++)
        {
            float want = x0[i] + (x0[i] - denoised[0][i]) / s0 * (s1 - s0);
            float d1 = Mu + S * S / (S * S + s1 * s1) * (want - Mu);
            Assert.Equal(d1, got[i], 4);
        }
    }

    [Fact]
    public void FractionalTimestepsReachTheModel()
    {
        var timesteps = new List<float>();
        EpsModel model = (x, t, s) => { timesteps.Add(t); return GaussianEps(x, t, s); };
        Sampler.Run(new SamplerSettings(SamplerKind.Euler, ScheduleKind.Karras, 20, TimestepMode.Fractional), Sdxl, model, Noise(16));
        Assert.Equal(961.733, timesteps[1], 2);
        timesteps.Clear();
        Sampler.Run(new SamplerSettings(SamplerKind.Euler, ScheduleKind.Karras, 20), Sdxl, model, Noise(16));
        Assert.Equal(962f, timesteps[1]);
    }

    [Fact]
    public void UniPcCallsTheModelOncePerStepAtShiftedTimes()
    {
        var timesteps = new List<float>();
        var sigmas = new List<float>();
        EpsModel model = (x, t, s) => { timesteps.Add(t); sigmas.Add(s); return GaussianEps(x, t, s); };
        Sampler.Run(new SamplerSettings(SamplerKind.UniPc, ScheduleKind.Normal, 8), Sdxl, model, Noise(16));
        float[] want = [999f, 874.125f, 749.25f, 624.375f, 499.5f, 374.625f, 249.75f, 124.875f];
        Assert.Equal(want.Length, timesteps.Count);
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - timesteps[i]) < 1e-3, $"t[{i}] = {timesteps[i]}");
        Assert.Equal(Sdxl.SigmaMax, sigmas[0], 3);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void UniPcRunsWithFewerStepsThanItsOrder(int steps)
    {
        int calls = 0;
        EpsModel model = (x, t, s) => { calls++; return GaussianEps(x, t, s); };
        var got = Sampler.Run(new SamplerSettings(SamplerKind.UniPc, ScheduleKind.Normal, steps), Sdxl, model, Noise(16));
        Assert.Equal(steps, calls);
        Assert.All(got, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void ProgressReportsEveryStep()
    {
        var steps = new List<SamplerStep>();
        Sampler.Run(new SamplerSettings(SamplerKind.DpmPp2m, ScheduleKind.Karras, 5), Sdxl, GaussianEps, Noise(16), callback: steps.Add);
        Assert.Equal([0, 1, 2, 3, 4], steps.Select(s => s.Index));
        Assert.All(steps, s => Assert.Equal(5, s.Total));
        Assert.Equal(Sdxl.SigmaMax, steps[0].Sigma, 4);
        for (int i = 1; i < steps.Count; i++)
        {
            Assert.True(steps[i].Sigma < steps[i - 1].Sigma);
            Assert.True(steps[i].Elapsed >= steps[i - 1].Elapsed);
        }
    }

    [Fact]
    public void CancellationStopsBetweenSteps()
    {
        using var cts = new CancellationTokenSource();
        int calls = 0;
        EpsModel model = (x, t, s) => { if (++calls == 2) cts.Cancel(); return GaussianEps(x, t, s); };
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Sampler.Run(new SamplerSettings(SamplerKind.Euler, ScheduleKind.Normal, 10), Sdxl, model, Noise(16), cancel: cts.Token));
        Assert.Equal(2, calls);
    }

    [Fact]
    public void StochasticSamplerWithoutStepNoiseIsRejected() =>
        Assert.Throws<ArgumentException>(() =>
            Sampler.Run(new SamplerSettings(SamplerKind.EulerAncestral, ScheduleKind.Normal, 4), Sdxl, GaussianEps, Noise(16)));

    [Fact]
    public void AncestralStepSplitsTheVariance()
    {
        var (down, up) = KDiffusionSamplers.AncestralStep(10f, 4f, 1f);
        Assert.Equal(16.0, down * (double)down + up * (double)up, 4);
        Assert.Equal(Math.Sqrt(16 * (100 - 16) / 100.0), up, 5);
        Assert.Equal((4f, 0f), KDiffusionSamplers.AncestralStep(10f, 4f, 0f));
        Assert.Equal((0f, 0f), KDiffusionSamplers.AncestralStep(10f, 0f, 1f));
    }
}
