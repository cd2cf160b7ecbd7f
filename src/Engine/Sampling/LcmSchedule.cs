namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// The sigma table Forge's LCM sampler schedules with (modules/sd_samplers_lcm.py LCMCompVisDenoiser): LCM's 50
/// original timesteps 19, 39, …, 999 of the model's table, as a k-diffusion DiscreteEpsDDPMDenoiser over their ᾱ.
/// </summary>
/// <remarks>
/// ᾱ_k = 1/(σ² + 1) of the predictor's sigma at timestep 19 + 20k, then σ_k = √((1 − ᾱ_k)/ᾱ_k) and ln σ_k, all in
/// float32 as torch computes them. A sigma's timestep is the nearest entry's 20k + 19; a timestep's sigma
/// interpolates ln σ at (t − 19)/20. Only the schedule comes from here: Forge's LCM model call is the usual ε
/// denoiser of the full table.
/// </remarks>
public sealed class LcmSchedule : ISigmaTable
{
    /// <summary>LCM's original timesteps (Forge's <c>original_timesteps</c>).</summary>
    public const int OriginalTimesteps = 50;

    private readonly float[] _sigmas;
    private readonly float[] _logSigmas;
    private readonly int _skip;

    public LcmSchedule(DiscreteSchedule model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Count % OriginalTimesteps != 0)
            throw new ArgumentException($"LCM needs a table of a multiple of {OriginalTimesteps} steps, not {model.Count}", nameof(model));
        _skip = model.Count / OriginalTimesteps;
        _sigmas = new float[OriginalTimesteps];
        _logSigmas = new float[OriginalTimesteps];
        for (int x = 0; x < OriginalTimesteps; x++)
        {
            float s = model.Sigmas[model.Count - 1 - x * _skip];
            float alphaBar = 1f / (s * s + 1f);
            float sigma = MathF.Sqrt((1f - alphaBar) / alphaBar);
            _sigmas[OriginalTimesteps - 1 - x] = sigma;
            _logSigmas[OriginalTimesteps - 1 - x] = MathF.Log(sigma);
        }
    }

    public int Count => OriginalTimesteps;
    public float SigmaAt(int index) => _sigmas[index];
    public float SigmaMin => _sigmas[0];
    public float SigmaMax => _sigmas[^1];

    public float SigmaToT(float sigma)
    {
        float logSigma = MathF.Log(sigma);
        int best = 0;
        float bestDist = float.PositiveInfinity;
        for (int i = 0; i < _logSigmas.Length; i++)
        {
            float d = MathF.Abs(logSigma - _logSigmas[i]);
            if (d < bestDist) { bestDist = d; best = i; }
        }
        return best * _skip + (_skip - 1);
    }

    public float TToSigma(float t)
    {
        float u = Math.Clamp((t - (_skip - 1)) / _skip, 0f, OriginalTimesteps - 1);
        int low = (int)MathF.Floor(u), high = (int)MathF.Ceiling(u);
        float w = u - low;
        return MathF.Exp((1f - w) * _logSigmas[low] + w * _logSigmas[high]);
    }
}
