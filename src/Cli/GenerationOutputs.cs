using System.Text.Json;
using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Imaging.Png;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.IO.Outputs;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Pipelines.Memory;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// The files `generate`, `layer` and `img2img` write, named from --out: OUT.png (OUT-i.png for image i of a batch),
/// OUT[-i]_vis.png with --vis, OUT[-i]_preview_stepK.png with --preview-every, and --save-latent / --json. Every name
/// is declared into the run's <see cref="OutputPlan"/> before any work and written through its transaction.
/// </summary>
public sealed class GenerationOutputs
{
    private readonly string _stem;

    public GenerationOutputs(string output, int batch)
    {
        Output = output;
        Batch = batch;
        _stem = output[..^4];
    }

    public string Output { get; }
    public int Batch { get; }

    public string Image(int i) => Batch == 1 ? Output : $"{_stem}-{i}.png";
    public string Vis(int i) => Image(i)[..^4] + "_vis.png";
    public string Preview(int i, int step) => (Batch == 1 ? _stem : $"{_stem}-{i}") + $"_preview_step{step}.png";

    /// <summary>Declares every file the run may write (previews: every step a run of <paramref name="steps"/> steps can report).</summary>
    public void Declare(OutputPlan plan, bool vis, int previewEvery, int steps, string? saveLatent, string? json)
    {
        for (int i = 0; i < Batch; i++)
        {
            plan.Output("--out", Image(i));
            if (vis) plan.Output("--vis", Vis(i));
            if (previewEvery > 0)
                for (int k = previewEvery; k <= steps; k += previewEvery) plan.Output("--preview-every", Preview(i, k));
        }
        if (saveLatent is not null) plan.Output("--save-latent", saveLatent);
        if (json is not null && json != GenerationJson.Stdout) plan.Output("--json", json);
    }

    /// <summary>Stages each image (and with --vis its checkerboard preview) with A1111 infotext; returns the names.</summary>
    public List<string> StageImages(OutputTransaction tx, bool vis, Func<long, string> infotext, GenerationResult result)
    {
        var files = new List<string>();
        for (int i = 0; i < result.Images.Count; i++)
        {
            var img = result.Images[i];
            var text = new[] { new KeyValuePair<string, string>("parameters", infotext(img.Seed)) };
            var (pixels, channels) = img.Rgba is not null ? (img.Rgba, 4) : (img.Rgb, 3);
            StagePng(tx, Image(i), pixels, result.Width, result.Height, channels, text);
            files.Add(Image(i));
            if (vis && img.Preview is not null)
            {
                StagePng(tx, Vis(i), img.Preview, result.Width, result.Height, 3, text);
                files.Add(Vis(i));
            }
        }
        return files;
    }

    public static void StagePng(OutputTransaction tx, string path, byte[] pixels, int width, int height, int channels,
        IEnumerable<KeyValuePair<string, string>>? text = null)
    {
        var bytes = PngWriter.Encode(pixels, width, height, channels, text);
        tx.Stage(path, s => s.Write(bytes));
    }

    /// <summary>`--save-latent`: tensor `latent` [B, 4, h/8, w/8], the unscaled VAE latent (sampler latent / the family's scale).</summary>
    public static void StageLatent(OutputTransaction tx, string path, GenerationResult r)
    {
        var unscaled = r.Latent.Select(v => v / r.Family.LatentScale).ToArray();
        int per = unscaled.Length / r.Images.Count;
        var writer = new SafeTensorsWriter().Add("latent", [r.Images.Count, per / (r.Height / 8 * (r.Width / 8)), r.Height / 8, r.Width / 8], unscaled);
        tx.Stage(path, writer.Write);
    }
}
