using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `--preview-every N`: after every N-th sampler step, each image's x0 prediction through the family's cheap latent →
/// RGB approximation (<see cref="LatentPreview"/>), one pixel per latent cell, as OUT_preview_stepK.png beside the
/// output (OUT-i_preview_stepK.png for image i of a batch, matching the outputs' names). K counts from 1.
/// </summary>
public sealed class PreviewWriter(LatentPreview preview, string output, int every, int batch, int latentHeight, int latentWidth)
{
    private readonly List<string> _written = [];

    public IReadOnlyList<string> Written => _written;

    public void Step(SamplerStep step)
    {
        int k = step.Index + 1;
        if (k % every != 0) return;
        int per = preview.LatentChannels * latentHeight * latentWidth;
        // A latent of another width has no fitted approximation: no preview rather than a wrong one.
        if (step.Denoised.Length != batch * per) return;
        string stem = output[..^4];
        for (int i = 0; i < batch; i++)
        {
            var rgb = preview.ToRgb(step.Denoised.AsSpan(i * per, per), latentHeight, latentWidth);
            string name = (batch == 1 ? stem : $"{stem}-{i}") + $"_preview_step{k}.png";
            PngWriter.Write(name, rgb, latentWidth, latentHeight, 3);
            _written.Add(name);
        }
    }
}
