using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>A network produced NaN or Inf: the run stops, naming the network and the step, and writes nothing.</summary>
public sealed class NonFiniteResultException : LdException
{
    public NonFiniteResultException(string message) : base(message) => Kind = ErrorKind.Failure;
}

/// <summary>
/// Stops a run at the first NaN or Inf a network produces, instead of writing it out as a black, fully transparent
/// image. It checks the host copies the pipeline already has (prompt embeddings, condition and init latents, each
/// sampler step's x0 prediction, the final latent, the VAE's pixels, the transparent decoder's output), so on a GPU
/// it adds no device work and no transfer: one vectorised scan of a few hundred KB per step.
/// </summary>
public static class NonFiniteGuard
{
    /// <summary>Throws <see cref="NonFiniteResultException"/> if <paramref name="values"/> holds a NaN or Inf.</summary>
    /// <param name="network">What produced the values ("the UNet", "the VAE decoder").</param>
    /// <param name="when">Where in the run ("at sampler step 3 of 20").</param>
    public static void Check(ReadOnlySpan<float> values, string network, string when)
    {
        int bad = FiniteValues.FirstNonFinite(values);
        if (bad < 0) return;
        throw new NonFiniteResultException(
            $"{network} produced a non-finite value ({values[bad]}) {when} (element {bad} of {values.Length}); nothing was written. " +
            "The model files may be corrupt or not belong together, or a reduced precision overflowed (try fp32 precision)");
    }

    /// <summary>A step callback that checks each step's x0 prediction (the guided UNet's output) before passing the step on.</summary>
    public static SamplerCallback Steps(SamplerCallback? then) => step =>
    {
        Check(step.Denoised, "the UNet", $"at sampler step {step.Index + 1} of {step.Total} (sigma {step.Sigma:G4})");
        then?.Invoke(step);
    };
}
