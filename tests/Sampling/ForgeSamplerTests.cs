using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

/// <summary>
/// Forge's k-diffusion samplers against their formulas (k_diffusion/sampling.py, sd_samplers_lcm.py): how often they
/// call the model and the noise, which intervals the noise is asked for, and single steps worked by hand on the
/// Gaussian-data model. The golden case samplers_more checks them against Forge's own code on the tiny UNet.
/// </summary>
public sealed class ForgeSamplerTests
{
    private static readonly DiscreteSchedule Sdxl = DiscreteSchedule.Sdxl;

    /// <summary>Step noise that records its calls and returns zeros (the deterministic part of a stochastic step).</summary>
    private sealed class ZeroNoise(int size) : IStepNoise
    {
        public List<(float Sigma, float Next)> Calls { get; } = [];

        public float[] Between(float sigma, float sigmaNext)
        {
            Calls.Add((sigma, sigmaNext));
            return new float[size];
        }
    }

    private static (float[] Result, int ModelCalls, ZeroNoise Noise) Run(SamplerKind kind, ScheduleKind schedule, int steps, float[] noise)
    {
        int calls = 0;
        EpsModel model = (x, t, s) => { calls++; return GaussianData.Eps(x, t, s); };
        var zero = new ZeroNoise(noise.Length);
        var result = Sampler.Run(new SamplerSettings(kind, schedule, steps), Sdxl, model, noise, zero);
        return (result, calls, zero);
    }

    [Theory]
    // (sampler, model calls for n steps, noise calls): second-order samplers call the model twice but on the last step.
    [InlineData(SamplerKind.Lms, "n", "0")]
    [InlineData(SamplerKind.Heun, "2n-1", "0")]
    [InlineData(SamplerKind.Dpm2, "2n-1", "0")]
    [InlineData(SamplerKind.Dpm2Ancestral, "2n-1", "n-1")]
    [InlineData(SamplerKind.DpmPp2sAncestral, "2n-1", "n-1")]
    [InlineData(SamplerKind.DpmPpSde, "2n-1", "2n-2")]
    [InlineData(SamplerKind.DpmPp2mSde, "n", "n-1")]
    [InlineData(SamplerKind.DpmPp2mSdeHeun, "n", "n-1")]
    [InlineData(SamplerKind.DpmPp3mSde, "n", "n-1")]
    [InlineData(SamplerKind.Lcm, "n", "n-1")]
    public void ModelAndNoiseCallsPerRun(SamplerKind kind, string modelCalls, string noiseCalls)
    {
        const int n = 7;
        int Eval(string f) => f switch { "n" => n, "2n-1" => 2 * n - 1, "n-1" => n - 1, "2n-2" => 2 * n - 2, _ => 0 };
        var (result, calls, noise) = Run(kind, kind.DefaultSchedule(), n, GaussianData.Noise(32));
        Assert.Equal(Eval(modelCalls), calls);
        Assert.Equal(Eval(noiseCalls), noise.Calls.Count);
        Assert.All(result, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void StepNoiseComesFromWhereForgeTakesIt()
    {
        var source = new SeededNoiseSource(1, 1, [16], RngSource.Cpu);
        foreach (var kind in SamplerKindExtensions.All)
        {
            var settings = new SamplerSettings(kind, kind.DefaultSchedule(), 4);
            var noise = StepNoise.For(settings, source, Sampler.Sigmas(settings, Sdxl));
            switch (kind)
            {
                case SamplerKind.EulerAncestral or SamplerKind.Dpm2Ancestral or SamplerKind.DpmPp2sAncestral or SamplerKind.Lcm:
                    Assert.IsType<SequentialStepNoise>(noise); break;
                case SamplerKind.DpmPpSde or SamplerKind.DpmPp2mSde or SamplerKind.DpmPp2mSdeHeun or SamplerKind.DpmPp3mSde:
                    Assert.IsType<BrownianStepNoise>(noise); break;
                default:
                    Assert.Null(noise); break;
            }
        }
    }

    [Fact]
    public void DpmPpSdeAsksForTheHalfwayIntervalThenTheWholeStep()
    {
        var (_, _, noise) = Run(SamplerKind.DpmPpSde, ScheduleKind.Karras, 5, GaussianData.Noise(8));
        var sigmas = Sampler.Sigmas(new SamplerSettings(SamplerKind.DpmPpSde, ScheduleKind.Karras, 5), Sdxl);
        for (int i = 0; i < 4; i++)
        {
            var (from1, mid) = noise.Calls[2 * i];
            var (from2, next) = noise.Calls[2 * i + 1];
            // k-diffusion passes σ(t(σ)) round trips in float32: within a few ulps of the schedule's sigmas.
            Assert.Equal(sigmas[i], from1, 1e-6 * sigmas[i]);
            Assert.Equal(sigmas[i], from2, 1e-6 * sigmas[i]);
            Assert.Equal(Math.Sqrt((double)sigmas[i] * sigmas[i + 1]), mid, 1e-6 * mid); // e^−(t + h/2) = √(σ·σ_next)
            Assert.Equal(sigmas[i + 1], next, 1e-6 * sigmas[i + 1]);
        }
    }

    [Fact]
    public void HeunAveragesTheSlopesAtBothEnds()
    {
        var x0 = GaussianData.Noise(16);
        var (got, _, _) = Run(SamplerKind.Heun, ScheduleKind.Karras, 2, x0);
        var s = Sampler.Sigmas(new SamplerSettings(SamplerKind.Heun, ScheduleKind.Karras, 2), Sdxl);
        for (int i = 0; i < x0.Length; i++)
        {
            double x = x0[i] * (double)s[0], dt = s[1] - s[0];
            double d = (x - GaussianData.Denoised(x, s[0])) / s[0];
            double x2 = x + d * dt, d2 = (x2 - GaussianData.Denoised(x2, s[1])) / s[1];
            double x1 = x + (d + d2) / 2 * dt;
            Assert.Equal(GaussianData.Denoised(x1, s[1]), got[i], 1e-4); // the last step (to 0) is Euler: it returns D
        }
    }

    [Fact]
    public void Dpm2TakesTheSlopeAtTheLogMidpoint()
    {
        var x0 = GaussianData.Noise(16);
        var (got, _, _) = Run(SamplerKind.Dpm2, ScheduleKind.Karras, 2, x0);
        var s = Sampler.Sigmas(new SamplerSettings(SamplerKind.Dpm2, ScheduleKind.Karras, 2), Sdxl);
        double mid = Math.Sqrt((double)s[0] * s[1]);
        for (int i = 0; i < x0.Length; i++)
        {
            double x = x0[i] * (double)s[0];
            double d = (x - GaussianData.Denoised(x, s[0])) / s[0];
            double x2 = x + d * (mid - s[0]), d2 = (x2 - GaussianData.Denoised(x2, mid)) / mid;
            double x1 = x + d2 * (s[1] - s[0]);
            Assert.Equal(GaussianData.Denoised(x1, s[1]), got[i], 1e-4);
        }
    }

    [Fact]
    public void Dpm2DiscardsThePenultimateSigma()
    {
        foreach (var kind in new[] { SamplerKind.Dpm2, SamplerKind.Dpm2Ancestral, SamplerKind.DpmPp3mSde })
        {
            var s = Sampler.Sigmas(new SamplerSettings(kind, kind.DefaultSchedule(), 6), Sdxl);
            var full = SigmaSchedules.Build(kind.DefaultSchedule(), 7, Sdxl);
            Assert.Equal([.. full[..6], 0f], s);
        }
        Assert.Equal(SigmaSchedules.Build(ScheduleKind.Karras, 6, Sdxl), Sampler.Sigmas(new SamplerSettings(SamplerKind.DpmPpSde, ScheduleKind.Karras, 6), Sdxl));
    }

    [Fact]
    public void DpmPp2mSdeHeunDiffersOnlyInTheSecondOrderTerm()
    {
        // With zero noise: x ← (σ'/σ)e^−h·x + (1 − e^−2h)·D, plus k·(D − D_prev) from the second step on, where
        // k = ½(1 − e^−2h)·h/h_last (midpoint) or ((1 − e^−2h)/(−2h) + 1)·h/h_last (Heun).
        var x0 = GaussianData.Noise(16);
        var s = SigmaSchedules.Build(ScheduleKind.Exponential, 3, Sdxl);
        foreach (bool heun in new[] { false, true })
        {
            var kind = heun ? SamplerKind.DpmPp2mSdeHeun : SamplerKind.DpmPp2mSde;
            var (got, _, _) = Run(kind, ScheduleKind.Exponential, 3, x0);
            double h0 = Math.Log(s[0] / (double)s[1]), h1 = Math.Log(s[1] / (double)s[2]);
            double phi0 = 1 - Math.Exp(-2 * h0), phi1 = 1 - Math.Exp(-2 * h1);
            double k = heun ? (phi1 / (-2 * h1) + 1) * (h1 / h0) : 0.5 * phi1 * (h1 / h0);
            for (int i = 0; i < x0.Length; i++)
            {
                double x = x0[i] * (double)s[0];
                double d0 = GaussianData.Denoised(x, s[0]);
                double x1 = s[1] / (double)s[0] * Math.Exp(-h0) * x + phi0 * d0;
                double d1 = GaussianData.Denoised(x1, s[1]);
                double x2 = s[2] / (double)s[1] * Math.Exp(-h1) * x1 + phi1 * d1 + k * (d1 - d0);
                Assert.Equal(GaussianData.Denoised(x2, s[2]), got[i], 1e-4);
            }
        }
    }

    [Fact]
    public void LcmReturnsTheDenoisedPredictionPlusNoiseAtTheNextSigma()
    {
        var x0 = GaussianData.Noise(16);
        var s = Sampler.Sigmas(new SamplerSettings(SamplerKind.Lcm, ScheduleKind.Normal, 3), Sdxl);
        var (got, _, noise) = Run(SamplerKind.Lcm, ScheduleKind.Normal, 3, x0);
        Assert.Equal([(s[0], s[1]), (s[1], s[2])], noise.Calls);
        for (int i = 0; i < x0.Length; i++)
        {
            double x = x0[i] * (double)s[0];
            for (int k = 0; k < 3; k++) x = GaussianData.Denoised(x, s[k]);
            Assert.Equal(x, got[i], 1e-5);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void LinearMultistepCoefficientsIntegrateTheInterpolatingPolynomial(int order)
    {
        // Σ_j c_j·p(t_{i−j}) = ∫ p over [t_i, t_{i+1}] for every polynomial p of degree < order.
        float[] t = [14.6f, 9.1f, 5.3f, 2.2f, 0.9f, 0f];
        int i = 4;
        for (int degree = 0; degree < order; degree++)
        {
            double sum = 0;
            for (int j = 0; j < order; j++) sum += LinearMultistep.Coefficient(order, t, i, j) * Math.Pow(t[i - j], degree);
            double exact = (Math.Pow(t[i + 1], degree + 1) - Math.Pow(t[i], degree + 1)) / (degree + 1);
            Assert.Equal(exact, sum, 1e-9 * (1 + Math.Abs(exact)));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearMultistep.Coefficient(order + 1, t, order - 1, 0));
    }
}
