namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// k-diffusion's second-order samplers (k_diffusion/sampling.py): two model calls per step, one where a step ends at
/// σ = 0 (or, for the ancestral ones, σ_down = 0). Heun and DPM2 run without churn (Forge's default s_churn 0);
/// the ancestral ones with eta 1, s_noise 1. Progress reports the first call of each step.
/// </summary>
internal static class KDiffusionSecondOrderSamplers
{
    /// <summary><c>sample_heun</c>: Euler predictor to σ_next, then the average of both slopes.</summary>
    public static float[] Heun(Denoiser model, float[] x, float[] sigmas, StepReporter report)
    {
        x = (float[])x.Clone();
        var x2 = new float[x.Length];
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            float sigma = sigmas[i], next = sigmas[i + 1];
            var denoised = model.Denoise(x, sigma);
            report.Report(i, sigma, denoised);
            float dt = next - sigma;
            if (next == 0)
            {
                for (int j = 0; j < x.Length; j++) x[j] += (x[j] - denoised[j]) / sigma * dt;
                continue;
            }
            for (int j = 0; j < x.Length; j++) x2[j] = x[j] + (x[j] - denoised[j]) / sigma * dt;
            var denoised2 = model.Denoise(x2, next);
            for (int j = 0; j < x.Length; j++)
            {
                float d = (x[j] - denoised[j]) / sigma, d2 = (x2[j] - denoised2[j]) / next;
                x[j] += (d + d2) / 2 * dt;
            }
        }
        return x;
    }

    /// <summary><c>sample_dpm_2</c>: the slope at the log-midpoint σ_mid carries the whole step.</summary>
    public static float[] Dpm2(Denoiser model, float[] x, float[] sigmas, StepReporter report)
    {
        x = (float[])x.Clone();
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            float sigma = sigmas[i], next = sigmas[i + 1];
            var denoised = model.Denoise(x, sigma);
            report.Report(i, sigma, denoised);
            MidpointStep(model, x, denoised, sigma, next);
        }
        return x;
    }

    /// <summary><c>sample_dpm_2_ancestral</c>: a DPM2 step to σ_down, then σ_up of fresh noise.</summary>
    public static float[] Dpm2Ancestral(Denoiser model, float[] x, float[] sigmas, IStepNoise noise, StepReporter report)
    {
        x = (float[])x.Clone();
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            float sigma = sigmas[i], next = sigmas[i + 1];
            var denoised = model.Denoise(x, sigma);
            var (down, up) = KDiffusionSamplers.AncestralStep(sigma, next, eta: 1f);
            report.Report(i, sigma, denoised);
            MidpointStep(model, x, denoised, sigma, down);
            if (down != 0) KDiffusionSamplers.AddNoise(x, noise.Between(sigma, next), up);
        }
        return x;
    }

    /// <summary>
    /// One DPM-Solver-2 step from σ to <paramref name="target"/> in place: Euler when the target is 0, else
    /// x ← x + d(x₂, σ_mid)·(target − σ) with x₂ = x + d·(σ_mid − σ), σ_mid = exp(lerp(ln σ, ln target, ½)).
    /// </summary>
    private static void MidpointStep(Denoiser model, float[] x, float[] denoised, float sigma, float target)
    {
        float dt = target - sigma;
        if (target == 0)
        {
            for (int j = 0; j < x.Length; j++) x[j] += (x[j] - denoised[j]) / sigma * dt;
            return;
        }
        float mid = LogMidpoint(sigma, target);
        float dt1 = mid - sigma;
        var x2 = new float[x.Length];
        for (int j = 0; j < x.Length; j++) x2[j] = x[j] + (x[j] - denoised[j]) / sigma * dt1;
        var denoised2 = model.Denoise(x2, mid);
        for (int j = 0; j < x.Length; j++) x[j] += (x2[j] - denoised2[j]) / mid * dt;
    }

    /// <summary>torch's <c>a.log().lerp(b.log(), 0.5).exp()</c> in float32 (lerp at ½ is end − (end − start)·½).</summary>
    internal static float LogMidpoint(float a, float b)
    {
        float la = MathF.Log(a), lb = MathF.Log(b);
        return MathF.Exp(lb - (lb - la) * 0.5f);
    }

    /// <summary>
    /// <c>sample_dpmpp_2s_ancestral</c>: a DPM-Solver++(2S) step to σ_down through the midpoint s = t + h/2 in
    /// λ = −ln σ, then σ_up of fresh noise while σ_next &gt; 0.
    /// </summary>
    public static float[] DpmPp2sAncestral(Denoiser model, float[] x, float[] sigmas, IStepNoise noise, StepReporter report)
    {
        x = (float[])x.Clone();
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            float sigma = sigmas[i], next = sigmas[i + 1];
            var denoised = model.Denoise(x, sigma);
            var (down, up) = KDiffusionSamplers.AncestralStep(sigma, next, eta: 1f);
            report.Report(i, sigma, denoised);
            if (down == 0)
            {
                float dt = down - sigma;
                for (int j = 0; j < x.Length; j++) x[j] += (x[j] - denoised[j]) / sigma * dt;
            }
            else
            {
                double t = -Math.Log(sigma), tNext = -Math.Log(down);
                double h = tNext - t, s = t + 0.5 * h;
                float sigmaS = (float)Math.Exp(-s);
                float ratio = (float)Math.Exp(t - s), c = (float)-KDiffusionSamplers.ExpM1(-h * 0.5);
                var x2 = new float[x.Length];
                for (int j = 0; j < x.Length; j++) x2[j] = ratio * x[j] + c * denoised[j];
                var denoised2 = model.Denoise(x2, sigmaS);
                ratio = (float)Math.Exp(t - tNext);
                c = (float)-KDiffusionSamplers.ExpM1(-h);
                for (int j = 0; j < x.Length; j++) x[j] = ratio * x[j] + c * denoised2[j];
            }
            if (next > 0) KDiffusionSamplers.AddNoise(x, noise.Between(sigma, next), up);
        }
        return x;
    }
}
