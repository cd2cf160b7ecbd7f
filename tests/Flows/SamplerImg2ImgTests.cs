using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Flows;

/// <summary>
/// The sampler's img2img entry (start latent + start index), driven by the exact ε model of Gaussian data
/// x0 ~ N(μ, s²): from x(σ_a) the probability-flow ODE ends at μ + s/√(s² + σ_a²)·(x(σ_a) − μ).
/// </summary>
public sealed class SamplerImg2ImgTests
{
    private const float Mu = 0.3f, S = 0.5f;
    private static readonly DiscreteSchedule Sdxl = DiscreteSchedule.Sdxl;

    private static float[] GaussianEps(float[] xIn, float timestep, float sigma)
    {
        double sig2 = (double)sigma * sigma, scale = Math.Sqrt(sig2 + 1), shrink = S * S / (S * S + sig2);
        var eps = new float[xIn.Length];
        for (int i = 0; i < xIn.Length; i++)
        {
            double x = xIn[i] * scale;
            eps[i] = (float)((x - (Mu + shrink * (x - Mu))) / sigma);
        }
        return eps;
    }

    private static float[] Noise(int n, long seed) => new SeededNoiseSource(seed, 1, [n], RngSource.Cpu).Next();

    [Fact]
    public void StartingAtIndexZeroFromZeroIsTxt2Img()
    {
        var settings = new SamplerSettings(SamplerKind.Euler, ScheduleKind.Normal, 12);
        var noise = Noise(256, 5);
        var txt = Sampler.Run(settings, Sdxl, GaussianEps, noise);
        var img = Sampler.Run(settings, Sdxl, GaussianEps, noise, new float[noise.Length], 0);
        Assert.Equal(txt, img);
    }

    [Theory]
    [InlineData(SamplerKind.Euler, 400, 0.02)]
    [InlineData(SamplerKind.DpmPp2m, 80, 0.005)]
    public void ContinuesTheOdeFromTheStartSigma(SamplerKind kind, int steps, double tolerance)
    {
        var settings = new SamplerSettings(kind, kind.DefaultSchedule(), steps);
        var noise = Noise(512, 7);
        var init = Noise(512, 8).Select(v => Mu + S * v).ToArray();
        int start = steps / 2;
        var sigmas = Sampler.Sigmas(settings, Sdxl);
        var seen = new List<float>();
        var got = Sampler.Run(settings, Sdxl, GaussianEps, noise, init, start, callback: s => seen.Add(s.Sigma));

        Assert.Equal(sigmas[start..^1], seen);
        double sa = sigmas[start], err = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double xa = init[i] + noise[i] * (double)(float)sa;
            double want = Mu + S / Math.Sqrt(S * S + sa * sa) * (xa - Mu);
            err = Math.Max(err, Math.Abs(got[i] - want));
        }
        Assert.True(err < tolerance, $"{kind}: max error {err}");
    }

    [Fact]
    public void StepsAreReportedOutOfTheRemainingCount()
    {
        var settings = new SamplerSettings(SamplerKind.EulerAncestral, ScheduleKind.Normal, 10);
        var source = new SeededNoiseSource(3, 1, [64], RngSource.Cpu);
        var noise = source.Next();
        var steps = new List<(int, int)>();
        Sampler.Run(settings, Sdxl, GaussianEps, noise, new float[64], 6, StepNoise.For(settings, source, Sampler.Sigmas(settings, Sdxl)),
            s => steps.Add((s.Index, s.Total)));
        Assert.Equal([(0, 4), (1, 4), (2, 4), (3, 4)], steps);
    }

    [Fact]
    public void BadStartsAreRejected()
    {
        var euler = new SamplerSettings(SamplerKind.Euler, ScheduleKind.Normal, 10);
        var noise = Noise(16, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.Run(euler, Sdxl, GaussianEps, noise, new float[16], 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sampler.Run(euler, Sdxl, GaussianEps, noise, new float[16], -1));
        Assert.Throws<ArgumentException>(() => Sampler.Run(euler, Sdxl, GaussianEps, noise, new float[15], 0));
        // UniPC runs t_enc = steps − 1 − start steps: a start at the last index leaves it none.
        var unipc = new SamplerSettings(SamplerKind.UniPc, ScheduleKind.Normal, 10);
        Assert.Contains("UniPC", Assert.Throws<InvalidSettingException>(() => Sampler.Run(unipc, Sdxl, GaussianEps, noise, new float[16], 9)).Message);
        // DDIM runs t_enc − 1 steps: a start one before the last leaves it none.
        var ddim = new SamplerSettings(SamplerKind.Ddim, ScheduleKind.Normal, 10);
        Assert.Contains("DDIM", Assert.Throws<InvalidSettingException>(() => Sampler.Run(ddim, Sdxl, GaussianEps, noise, new float[16], 8)).Message);
    }

    /// <summary>
    /// A1111's timesteps img2img for UniPC, steps 10 and denoise 0.6 (t_enc 6, start index 3): timesteps 1, 101, …,
    /// 901; the start is init·√ᾱ[601] + noise·√(1 − ᾱ[601]); the first model call is at t = 501/1000 + 1/1000, i.e.
    /// UNet timestep 501; t_enc model calls in all.
    /// </summary>
    [Fact]
    public void UniPcStartsFromTheNoisedInitAtA1111sTimesteps()
    {
        Assert.Equal([1, 101, 201, 301, 401, 501, 601, 701, 801, 901], UniPcSampler.Img2ImgTimesteps(10));
        Assert.Equal(31, UniPcSampler.Img2ImgTimesteps(30).Length); // range(0, 1000, 33) has 31 values
        var settings = new SamplerSettings(SamplerKind.UniPc, ScheduleKind.Normal, 10);
        var noise = Noise(64, 11);
        var init = Noise(64, 12);
        var calls = new List<(float[] X, float Timestep)>();
        Sampler.Run(settings, Sdxl, (x, t, sigma) => { calls.Add(((float[])x.Clone(), t)); return GaussianEps(x, t, sigma); },
            noise, init, 3);

        Assert.Equal(6, calls.Count);
        Assert.Equal(501f, calls[0].Timestep, 3);
        float alphaBar = new NoiseScheduleVp(Sdxl).AlphasCumprod[601];
        float a = MathF.Sqrt(alphaBar), b = MathF.Sqrt(1f - alphaBar);
        Assert.Equal(init.Select((v, i) => v * a + noise[i] * b), calls[0].X);
    }

    /// <summary>
    /// UniPC continues the probability-flow ODE from where it starts (the noised init read at t_start), converging as
    /// its txt2img runs do (first order overall: the time-uniform grid ends in one long first-order step).
    /// </summary>
    [Fact]
    public void UniPcImg2ImgContinuesTheOde()
    {
        var noise = Noise(512, 13);
        var init = Noise(512, 14).Select(v => Mu + S * v).ToArray();
        double e40 = UniPcImg2ImgError(40, noise, init), e160 = UniPcImg2ImgError(160, noise, init);
        Assert.True(e40 < 0.06, $"max error at 40 steps {e40}");
        Assert.True(e160 < 0.015, $"max error at 160 steps {e160}");
        Assert.True(e160 < e40 / 2, $"error does not shrink with steps ({e40} -> {e160})");
    }

    /// <summary>Worst element against the exact flow from σ_a to UniPC's last time 1/N, in VP scale, at denoise 0.5.</summary>
    private static double UniPcImg2ImgError(int steps, float[] noise, float[] init)
    {
        var settings = new SamplerSettings(SamplerKind.UniPc, ScheduleKind.Normal, steps);
        int start = steps / 2, tEnc = steps - 1 - start;
        var got = Sampler.Run(settings, Sdxl, GaussianEps, noise, init, start);
        var vp = new NoiseScheduleVp(Sdxl);
        var ts = UniPcSampler.Img2ImgTimesteps(steps);
        float alphaBar = vp.AlphasCumprod[ts[tEnc]];
        double sa = vp.KSigma(ts[tEnc - 1] / 1000f + 0.001f), se = vp.KSigma(1.0 / vp.TotalN), err = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double xVp = init[i] * MathF.Sqrt(alphaBar) + noise[i] * MathF.Sqrt(1f - alphaBar);
            double xa = xVp * Math.Sqrt(1 + sa * sa); // the same state in k-diffusion scale
            double want = (Mu + Math.Sqrt((S * S + se * se) / (S * S + sa * sa)) * (xa - Mu)) / Math.Sqrt(1 + se * se);
            err = Math.Max(err, Math.Abs(got[i] - want));
        }
        return err;
    }
}
