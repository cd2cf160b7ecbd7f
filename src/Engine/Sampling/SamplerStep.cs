using System.Diagnostics;

namespace LayerDiffusion.Native.Sampling;

/// <summary>What a sampler reports after each model step.</summary>
/// <param name="Index">0-based step.</param>
/// <param name="Total">Number of steps of the run.</param>
/// <param name="Sigma">The sigma the model was evaluated at for this step.</param>
/// <param name="Elapsed">Time since sampling started.</param>
/// <param name="Denoised">The step's guided x0 prediction (for previews; do not modify).</param>
public readonly record struct SamplerStep(int Index, int Total, float Sigma, TimeSpan Elapsed, float[] Denoised);

/// <summary>Progress callback, called once per step on the sampling thread.</summary>
public delegate void SamplerCallback(SamplerStep step);

/// <summary>Times the run, checks for cancellation between steps and forwards steps to the callback.</summary>
internal sealed class StepReporter(int total, SamplerCallback? callback, CancellationToken cancel)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public int Total { get; } = total;

    public void ThrowIfCancelled() => cancel.ThrowIfCancellationRequested();

    public void Report(int index, float sigma, float[] denoised) =>
        callback?.Invoke(new SamplerStep(index, Total, sigma, _clock.Elapsed, denoised));
}
