namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// k-diffusion's samplers over host latents (k_diffusion/sampling.py; research/sdxl.md §5.2). x starts at
/// noise·σ_0; every run ends with a step to σ = 0 that returns the last denoised prediction. Scalar coefficients
/// are computed in double, element updates in float.
/// </summary>
internal static class KDiffusionSamplers
{
    /// <summary><c>sample_euler</c> without churn: x ← x + (x − D)/σ·(σ_next − σ).</summary>
    public static float[] Euler(Denoiser model, float[] x, float[] sigmas, StepReporter report)
    {
        x = (float[])x.Clone();
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            float sigma = sigmas[i];
            var denoised = model.Denoise(x, sigma);
            report.Report(i, sigma, denoised);
            float dt = sigmas[i + 1] - sigma;
            for (int j = 0; j < x.Length; j++) x[j] += (x[j] - denoised[j]) / sigma * dt;
        }
        return x;
    }

    /// <summary><c>sample_euler_ancestral</c>, eta 1, s_noise 1: an Euler step to σ_down, then σ_up of fresh noise.</summary>
    public static float[] EulerAncestral(Denoiser model, float[] x, float[] sigmas, IStepNoise noise, StepReporter report)
    {
        x = (float[])x.Clone();
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            float sigma = sigmas[i], next = sigmas[i + 1];
            var denoised = model.Denoise(x, sigma);
            var (down, up) = AncestralStep(sigma, next, eta: 1f);
            report.Report(i, sigma, denoised);
            float dt = down - sigma;
            for (int j = 0; j < x.Length; j++) x[j] += (x[j] - denoised[j]) / sigma * dt;
            if (next > 0) AddNoise(x, noise.Between(sigma, next), up);
        }
        return x;
    }

    /// <summary>k-diffusion <c>get_ancestral_step</c>.</summary>
    public static (float Down, float Up) AncestralStep(float from, float to, float eta)
    {
        if (eta == 0) return (to, 0f);
        double f = from, t = to;
        double up = Math.Min(t, eta * Math.Sqrt(t * t * (f * f - t * t) / (f * f)));
        double down = Math.Sqrt(t * t - up * up);
        return ((float)down, (float)up);
    }

    /// <summary><c>sample_dpmpp_2m</c>: second-order multistep in λ = −ln σ.</summary>
    public static float[] DpmPp2m(Denoiser model, float[] x, float[] sigmas, StepReporter report)
    {
        x = (float[])x.Clone();
        float[]? old = null;
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            float sigma = sigmas[i], next = sigmas[i + 1];
            var denoised = model.Denoise(x, sigma);
            report.Report(i, sigma, denoised);
            if (next == 0)
            {
                x = (float[])denoised.Clone();
            }
            else
            {
                double t = -Math.Log(sigma), tNext = -Math.Log(next);
                double h = tNext - t;
                float ratio = (float)(next / (double)sigma);
                float c = (float)-ExpM1(-h);
                if (old is null)
                {
                    for (int j = 0; j < x.Length; j++) x[j] = ratio * x[j] + c * denoised[j];
                }
                else
                {
                    double hLast = t + Math.Log(sigmas[i - 1]);
                    double r = hLast / h;
                    float a = (float)(1 + 1 / (2 * r)), b = (float)(1 / (2 * r));
                    for (int j = 0; j < x.Length; j++) x[j] = ratio * x[j] + c * (a * denoised[j] - b * old[j]);
                }
            }
            old = denoised;
        }
        return x;
    }

    /// <summary>Forge's <c>sample_lcm</c>: x ← D, then σ_next of fresh noise while σ_next &gt; 0.</summary>
    public static float[] Lcm(Denoiser model, float[] x, float[] sigmas, IStepNoise noise, StepReporter report)
    {
        x = (float[])x.Clone();
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            float sigma = sigmas[i], next = sigmas[i + 1];
            var denoised = model.Denoise(x, sigma);
            report.Report(i, sigma, denoised);
            x = denoised;
            if (next > 0) AddNoise(x, noise.Between(sigma, next), next);
        }
        return x;
    }

    /// <summary>x ← x + n·scale for a step's noise n (checked against x's size).</summary>
    internal static void AddNoise(float[] x, float[] n, float scale)
    {
        CheckSize(n, x);
        for (int j = 0; j < x.Length; j++) x[j] += n[j] * scale;
    }

    /// <summary>e^x − 1 without cancellation for small x.</summary>
    internal static double ExpM1(double x) =>
        Math.Abs(x) < 1e-5 ? x + 0.5 * x * x + x * x * x / 6 : Math.Exp(x) - 1;

    internal static void CheckSize(float[] noise, float[] x)
    {
        if (noise.Length != x.Length)
            throw new InvalidOperationException($"step noise has {noise.Length} values for a latent of {x.Length}");
    }
}
