namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// The discrete DDPM noise schedule an ε-prediction SD model was trained on, seen as a table of sigmas
/// (k-diffusion's DiscreteSchedule, Forge's <c>Prediction</c>).
/// </summary>
/// <remarks>
/// Numerics follow Forge's predictor (backend/modules/k_prediction.py register_schedule) to the bit where it is
/// cheap: betas, ᾱ = cumprod(1 − β), σ = √((1 − ᾱ)/ᾱ) and ln σ in float64 (torch.linspace, cumprod), each stored as
/// float32.
/// </remarks>
public sealed class DiscreteSchedule : ISigmaTable
{
    /// <summary>SD/SDXL's "scaled linear" betas 0.00085 … 0.012 over 1000 steps.</summary>
    public static DiscreteSchedule Sdxl { get; } = ScaledLinear(0.00085, 0.012, 1000);

    private DiscreteSchedule(double[] alphasCumprod)
    {
        int n = alphasCumprod.Length;
        AlphasCumprod = new float[n];
        Sigmas = new float[n];
        LogSigmas = new float[n];
        for (int i = 0; i < n; i++)
        {
            double a = alphasCumprod[i];
            double sigma = Math.Sqrt((1 - a) / a);
            AlphasCumprod[i] = (float)a;
            Sigmas[i] = (float)sigma;
            LogSigmas[i] = (float)Math.Log(sigma);
        }
    }

    /// <summary>ᾱ_i, float32, ascending timestep.</summary>
    public float[] AlphasCumprod { get; }
    /// <summary>σ_i = √((1 − ᾱ_i)/ᾱ_i), ascending.</summary>
    public float[] Sigmas { get; }
    public float[] LogSigmas { get; }
    public int Count => Sigmas.Length;
    public float SigmaMin => Sigmas[0];
    public float SigmaMax => Sigmas[^1];

    /// <summary>β_i = (√start + i·(√end − √start)/(n − 1))², ᾱ = cumprod(1 − β).</summary>
    public static DiscreteSchedule ScaledLinear(double betaStart, double betaEnd, int timesteps)
    {
        if (timesteps < 2) throw new ArgumentOutOfRangeException(nameof(timesteps), "need at least 2 training steps");
        if (!(betaStart > 0 && betaEnd > betaStart && betaEnd < 1)) throw new ArgumentOutOfRangeException(nameof(betaEnd), "need 0 < start < end < 1");
        var roots = TorchLinspace.F64(Math.Sqrt(betaStart), Math.Sqrt(betaEnd), timesteps);
        var ac = new double[timesteps];
        double prod = 1.0;
        for (int i = 0; i < timesteps; i++)
        {
            prod *= 1.0 - roots[i] * roots[i];
            ac[i] = prod;
        }
        return new DiscreteSchedule(ac);
    }

    /// <summary>The UNet timestep for a sigma: nearest training step, or A1111's fractional interpolation.</summary>
    public float SigmaToTimestep(float sigma, TimestepMode mode = TimestepMode.Quantized)
    {
        float logSigma = (float)Math.Log(sigma);
        var ls = LogSigmas;
        if (mode == TimestepMode.Quantized)
        {
            int best = 0;
            float bestDist = float.PositiveInfinity;
            for (int i = 0; i < ls.Length; i++)
            {
                float d = MathF.Abs(logSigma - ls[i]);
                if (d < bestDist) { bestDist = d; best = i; } // first minimum wins, like argmin
            }
            return best;
        }
        // k-diffusion sigma_to_t: low = last index with ln σ_i ≤ ln σ (0 if none), at most n − 2.
        int low = 0;
        for (int i = 0; i < ls.Length; i++) if (logSigma - ls[i] >= 0) low = i;
        low = Math.Min(low, ls.Length - 2);
        float lo = ls[low], hi = ls[low + 1];
        float w = Math.Clamp((lo - logSigma) / (lo - hi), 0f, 1f);
        return (1f - w) * low + w * (low + 1);
    }

    /// <summary>σ(t): log-sigma interpolated between the neighbouring training steps, t clamped to the table.</summary>
    public float TimestepToSigma(float t)
    {
        t = Math.Clamp(t, 0f, Count - 1);
        int low = (int)MathF.Floor(t), high = (int)MathF.Ceiling(t);
        float w = t - low;
        float logSigma = (1f - w) * LogSigmas[low] + w * LogSigmas[high];
        return (float)Math.Exp(logSigma);
    }

    float ISigmaTable.SigmaAt(int index) => Sigmas[index];
    float ISigmaTable.SigmaToT(float sigma) => SigmaToTimestep(sigma, TimestepMode.Quantized);
    float ISigmaTable.TToSigma(float t) => TimestepToSigma(t);

    /// <summary>
    /// Forge's <c>percent_to_sigma</c>: the sigma at timestep (1 − p)·(n − 1); p ≤ 0 gives a huge sigma (the point
    /// is never reached), p ≥ 1 gives 0 (always above it).
    /// </summary>
    public double PercentToSigma(double percent)
    {
        if (percent <= 0.0) return 999999999.9;
        if (percent >= 1.0) return 0.0;
        return TimestepToSigma((float)((1.0 - percent) * (Count - 1)));
    }
}
