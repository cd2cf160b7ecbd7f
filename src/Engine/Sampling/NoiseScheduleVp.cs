namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// DPM-Solver/UniPC's discrete VP schedule (uni_pc.py NoiseScheduleVP('discrete')) built the way Forge builds it for
/// its timesteps samplers: ᾱ_i = 1/(σ_i² + 1) from the predictor's float32 sigma table, ln α_i = ½ ln ᾱ_i at the
/// continuous times t_i = (i + 1)/N, piecewise-linear in between (and linearly extrapolated beyond, as
/// <c>interpolate_fn</c> does).
/// </summary>
public sealed class NoiseScheduleVp
{
    private readonly double[] _t;
    private readonly double[] _logAlpha;

    public NoiseScheduleVp(DiscreteSchedule schedule)
    {
        int n = schedule.Count;
        AlphasCumprod = new float[n];
        _t = new double[n];
        _logAlpha = new double[n];
        var grid = TorchLinspace.F32(0f, 1f, n + 1);
        for (int i = 0; i < n; i++)
        {
            float s = schedule.Sigmas[i];
            AlphasCumprod[i] = 1f / (s * s + 1f);
            _logAlpha[i] = 0.5 * (float)Math.Log(AlphasCumprod[i]);
            _t[i] = grid[i + 1];
        }
    }

    /// <summary>ᾱ of the VP view, float32 (the golden <c>alphas_cumprod_vp</c>).</summary>
    public float[] AlphasCumprod { get; }

    /// <summary>Number of training steps N; continuous time runs over (0, 1], t = 1/N is the first step.</summary>
    public int TotalN => _t.Length;

    /// <summary>The UNet timestep for continuous time t: (t − 1/N)·1000, computed in float like the reference.</summary>
    public float ModelTimestep(float t) => (t - 1f / TotalN) * 1000f;

    /// <summary>ln α(t).</summary>
    public double LogAlpha(double t)
    {
        int k = _t.Length;
        int i = Array.BinarySearch(_t, t);
        int start;
        if (i >= 0) start = Math.Min(i, k - 2);
        else
        {
            int insert = ~i; // first knot greater than t
            start = Math.Clamp(insert - 1, 0, k - 2);
        }
        double x0 = _t[start], x1 = _t[start + 1], y0 = _logAlpha[start], y1 = _logAlpha[start + 1];
        return y0 + (t - x0) * (y1 - y0) / (x1 - x0);
    }

    public double Alpha(double t) => Math.Exp(LogAlpha(t));

    /// <summary>σ_VP(t) = √(1 − α²).</summary>
    public double Std(double t) => Math.Sqrt(1 - Math.Exp(2 * LogAlpha(t)));

    /// <summary>λ(t) = ln α − ln σ_VP (half log-SNR).</summary>
    public double Lambda(double t)
    {
        double la = LogAlpha(t);
        return la - 0.5 * Math.Log(1 - Math.Exp(2 * la));
    }

    /// <summary>The k-diffusion sigma equivalent to time t: σ_VP/α = e^−λ.</summary>
    public double KSigma(double t) => Math.Exp(-Lambda(t));
}
