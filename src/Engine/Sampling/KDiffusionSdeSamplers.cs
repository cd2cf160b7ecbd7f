namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// k-diffusion's DPM-Solver++ SDE samplers (k_diffusion/sampling.py), eta 1, s_noise 1: their noise comes from a
/// Brownian motion in Forge (see <see cref="BrownianStepNoise"/>), any <see cref="IStepNoise"/> here. Scalar
/// coefficients in double, element updates in float.
/// </summary>
internal static class KDiffusionSdeSamplers
{
    private const double Eta = 1.0;

    /// <summary><c>sample_dpmpp_2m_sde</c> with the midpoint or (DPM++ 2M SDE Heun) the Heun solver.</summary>
    public static float[] DpmPp2mSde(Denoiser model, float[] x, float[] sigmas, IStepNoise noise, StepReporter report, bool heun = false)
    {
        x = (float[])x.Clone();
        float[]? old = null;
        double hLast = double.NaN, h = double.NaN;
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
                h = Math.Log(sigma) - Math.Log(next);
                double etaH = Eta * h;
                double phi = -KDiffusionSamplers.ExpM1(-h - etaH);
                float decay = (float)(next / (double)sigma * Math.Exp(-etaH));
                float c = (float)phi;
                for (int j = 0; j < x.Length; j++) x[j] = decay * x[j] + c * denoised[j];
                if (old is not null)
                {
                    double r = hLast / h;
                    float k = (float)((heun ? phi / (-h - etaH) + 1 : 0.5 * phi) * (1 / r));
                    for (int j = 0; j < x.Length; j++) x[j] += k * (denoised[j] - old[j]);
                }
                KDiffusionSamplers.AddNoise(x, noise.Between(sigma, next), (float)(next * Math.Sqrt(-KDiffusionSamplers.ExpM1(-2 * etaH))));
                hLast = h;
            }
            old = denoised;
        }
        return x;
    }

    /// <summary><c>sample_dpmpp_3m_sde</c>: third-order multistep in λ = −ln σ with the SDE's noise.</summary>
    public static float[] DpmPp3mSde(Denoiser model, float[] x, float[] sigmas, IStepNoise noise, StepReporter report)
    {
        x = (float[])x.Clone();
        float[]? d1Prev = null, d2Prev = null; // denoised of the previous two steps
        double? h1 = null, h2 = null;
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
                double h = Math.Log(sigma) - Math.Log(next);
                double hEta = h * (Eta + 1);
                float decay = (float)Math.Exp(-hEta), c = (float)-KDiffusionSamplers.ExpM1(-hEta);
                for (int j = 0; j < x.Length; j++) x[j] = decay * x[j] + c * denoised[j];
                double phi2 = KDiffusionSamplers.ExpM1(-hEta) / hEta + 1;
                if (h2 is { } hh2 && h1 is { } hh1)
                {
                    double r0 = hh1 / h, r1 = hh2 / h;
                    double phi3 = phi2 / hEta - 0.5;
                    float inv0 = (float)(1 / r0), inv1 = (float)(1 / r1);
                    float w = (float)(r0 / (r0 + r1)), inv01 = (float)(1 / (r0 + r1));
                    float p2 = (float)phi2, p3 = (float)phi3;
                    for (int j = 0; j < x.Length; j++)
                    {
                        float d10 = (denoised[j] - d1Prev![j]) * inv0;
                        float d11 = (d1Prev[j] - d2Prev![j]) * inv1;
                        float d1 = d10 + (d10 - d11) * w;
                        float d2 = (d10 - d11) * inv01;
                        x[j] += p2 * d1 - p3 * d2;
                    }
                }
                else if (h1 is { } hh)
                {
                    float k = (float)(phi2 * h / hh);
                    for (int j = 0; j < x.Length; j++) x[j] += k * (denoised[j] - d1Prev![j]);
                }
                KDiffusionSamplers.AddNoise(x, noise.Between(sigma, next), (float)(next * Math.Sqrt(-KDiffusionSamplers.ExpM1(-2 * h * Eta))));
                (h1, h2) = (h, h1);
            }
            (d1Prev, d2Prev) = (denoised, d1Prev);
        }
        return x;
    }

    /// <summary>
    /// <c>sample_dpmpp_sde</c> (r = ½): a first substep to σ_mid = e^−(t + h/2) with ancestral noise, a second to σ_next
    /// from the two predictions; two noise calls per step, the last step (to 0) an Euler step without noise. The noise
    /// intervals and the substep's model sigma are k-diffusion's σ(t(·)) round trips in float32, as torch computes them.
    /// </summary>
    public static float[] DpmPpSde(Denoiser model, float[] x, float[] sigmas, IStepNoise noise, StepReporter report)
    {
        const float r = 0.5f;
        const double fac = 1 / (2 * 0.5);
        x = (float[])x.Clone();
        for (int i = 0; i < sigmas.Length - 1; i++)
        {
            report.ThrowIfCancelled();
            float sigma = sigmas[i], next = sigmas[i + 1];
            var denoised = model.Denoise(x, sigma);
            report.Report(i, sigma, denoised);
            if (next == 0)
            {
                float dt = next - sigma;
                for (int j = 0; j < x.Length; j++) x[j] += (x[j] - denoised[j]) / sigma * dt;
                continue;
            }
            float t = -MathF.Log(sigma), tNext = -MathF.Log(next);
            float h = tNext - t, s = t + h * r;
            float sigmaT = MathF.Exp(-t), sigmaS = MathF.Exp(-s), sigmaNext = MathF.Exp(-tNext);

            // Step 1: to σ_s, with ancestral noise.
            var (down, up) = KDiffusionSamplers.AncestralStep(sigmaT, sigmaS, (float)Eta);
            double sPrime = -Math.Log(down);
            float ratio = (float)(down / (double)sigmaT), c = (float)-KDiffusionSamplers.ExpM1(t - sPrime);
            var x2 = new float[x.Length];
            for (int j = 0; j < x.Length; j++) x2[j] = ratio * x[j] + c * denoised[j];
            KDiffusionSamplers.AddNoise(x2, noise.Between(sigmaT, sigmaS), up);
            var denoised2 = model.Denoise(x2, sigmaS);

            // Step 2: to σ_next from (1 − fac)·D + fac·D₂.
            (down, up) = KDiffusionSamplers.AncestralStep(sigmaT, sigmaNext, (float)Eta);
            double tNextPrime = -Math.Log(down);
            ratio = (float)(down / (double)sigmaT);
            c = (float)-KDiffusionSamplers.ExpM1(t - tNextPrime);
            float a = (float)(1 - fac), b = (float)fac;
            for (int j = 0; j < x.Length; j++) x[j] = ratio * x[j] + c * (a * denoised[j] + b * denoised2[j]);
            KDiffusionSamplers.AddNoise(x, noise.Between(sigmaT, sigmaNext), up);
        }
        return x;
    }
}
