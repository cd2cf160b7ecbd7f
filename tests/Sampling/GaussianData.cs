using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Tests.Sampling;

/// <summary>
/// The exact ε model of Gaussian data x0 ~ N(μ, s²) (every element independent): D(x, σ) = μ + s²/(s² + σ²)·(x − μ).
/// Its probability-flow ODE has the closed-form solution x(σ) = μ + √(s² + σ²)/√(s² + σ_a²)·(x_a − μ), so
/// deterministic samplers must land there, and stochastic ones must produce samples with mean μ and sd s.
/// </summary>
internal static class GaussianData
{
    public const float Mu = 0.3f, S = 0.5f;

    /// <summary>The model sees x·c_in (= the VP x_t) and σ; x = xIn·√(σ² + 1).</summary>
    public static float[] Eps(float[] xIn, float timestep, float sigma)
    {
        double sig2 = (double)sigma * sigma, scale = Math.Sqrt(sig2 + 1), shrink = S * S / (S * S + sig2);
        var eps = new float[xIn.Length];
        for (int i = 0; i < xIn.Length; i++)
        {
            double x = xIn[i] * scale;
            double d = Mu + shrink * (x - Mu);
            eps[i] = (float)((x - d) / sigma);
        }
        return eps;
    }

    /// <summary>D(x, σ) of the data.</summary>
    public static double Denoised(double x, double sigma) => Mu + S * S / (S * S + sigma * sigma) * (x - Mu);

    /// <summary>The ODE solution at σ_b through x_a at σ_a (k-diffusion's x, not the VP one).</summary>
    public static double Flow(double xA, double sigmaA, double sigmaB) =>
        Mu + Math.Sqrt(S * S + sigmaB * sigmaB) / Math.Sqrt(S * S + sigmaA * sigmaA) * (xA - Mu);

    public static float[] Noise(int n, long seed = 1) => new SeededNoiseSource(seed, 1, [n], RngSource.Cpu).Next();

    public static (double Mean, double Sd) Moments(float[] v)
    {
        double mean = v.Average(x => (double)x);
        return (mean, Math.Sqrt(v.Average(x => (x - mean) * (x - mean))));
    }
}
