using LayerDiffusion.Native.IO.Outputs;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// `--preview-every N`: after every N-th sampler step, each image's x0 prediction through the family's cheap latent →
/// RGB approximation (<see cref="LatentPreview"/>), one pixel per latent cell, as OUT_preview_stepK.png beside the
/// output (OUT-i_preview_stepK.png for image i of a batch, matching the outputs' names). K counts from 1. Each preview
/// lands at once (it is progress), through the run's transaction: a run that fails or is cancelled takes them back.
/// </summary>
public sealed class PreviewWriter(LatentPreview preview, GenerationOutputs names, OutputTransaction tx, int every, int latentHeight, int latentWidth)
{
    private readonly List<string> _written = [];

    public IReadOnlyList<string> Written => _written;

    /// <summary>The output index of the current run's first image (Forge's Batch count runs one batch after another).</summary>
    public int FirstImage { get; set; }

    public void Step(SamplerStep step)
    {
        int k = step.Index + 1;
        if (k % every != 0) return;
        int per = preview.LatentChannels * latentHeight * latentWidth;
        // A latent of another width has no fitted approximation: no preview rather than a wrong one.
        int images = step.Denoised.Length / per;
        if (images * per != step.Denoised.Length || FirstImage + images > names.Batch) return;
        for (int i = 0; i < images; i++)
        {
            var rgb = preview.ToRgb(step.Denoised.AsSpan(i * per, per), latentHeight, latentWidth);
            var bytes = Imaging.Png.PngWriter.Encode(rgb, latentWidth, latentHeight, 3);
            string name = names.Preview(FirstImage + i, k);
            tx.WriteNow(name, s => s.Write(bytes));
            _written.Add(name);
        }
    }
}
