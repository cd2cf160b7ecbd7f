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
        var unipc = new SamplerSettings(SamplerKind.UniPc, ScheduleKind.Normal, 10);
        var e = Assert.Throws<InvalidOptionException>(() => Sampler.Run(unipc, Sdxl, GaussianEps, noise, new float[16], 2));
        Assert.Contains("--sampler", e.Message);
    }
}
