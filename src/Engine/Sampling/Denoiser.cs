namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// k-diffusion's discrete ε denoiser (DiscreteEpsDDPMDenoiser, Forge's EPS prediction):
/// D(x, σ) = x − σ·ε(x·c_in, t(σ)) with c_in = 1/√(σ² + 1).
/// </summary>
public sealed class Denoiser(EpsModel model, DiscreteSchedule schedule, TimestepMode timesteps = TimestepMode.Quantized)
{
    public DiscreteSchedule Schedule { get; } = schedule;
    public TimestepMode Timesteps { get; } = timesteps;

    public float[] Denoise(float[] x, float sigma)
    {
        float cIn = 1f / MathF.Sqrt(sigma * sigma + 1f);
        var xIn = new float[x.Length];
        for (int i = 0; i < x.Length; i++) xIn[i] = x[i] * cIn;
        float t = Schedule.SigmaToTimestep(sigma, Timesteps);
        var eps = model(xIn, t, sigma);
        if (eps.Length != x.Length) throw new InvalidOperationException($"model returned {eps.Length} values for {x.Length}");
        var denoised = new float[x.Length];
        for (int i = 0; i < x.Length; i++) denoised[i] = x[i] - eps[i] * sigma;
        return denoised;
    }
}
