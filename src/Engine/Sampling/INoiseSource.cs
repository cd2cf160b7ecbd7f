namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// Unit-normal noise for the whole latent batch [B, C, H, W], one draw after another: the first draw is the initial
/// noise, later draws feed ancestral samplers (A1111's ImageRNG.first / next).
/// </summary>
public interface INoiseSource
{
    float[] Next();
}

/// <summary>
/// Unit-normal noise for one sampler step from σ to σ_next. Time-aware sources (Brownian) use the interval;
/// sequential ones ignore it.
/// </summary>
public interface IStepNoise
{
    float[] Between(float sigma, float sigmaNext);
}

/// <summary>Step noise that is simply the next draw of a sequential source (A1111's ancestral noise; recorded noises).</summary>
public sealed class SequentialStepNoise(INoiseSource source) : IStepNoise
{
    public float[] Between(float sigma, float sigmaNext) => source.Next();
}
