using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Clip;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// sd15_text_encoder: for each given p{i}_tokens ([windows, N] ids), the conditioning of the checkpoint's family
/// (SD1.5: CLIP-L's last layer with the final norm), windows concatenated along tokens: p{i}_hidden.
/// </summary>
public sealed class Sd15TextEncoderCase : ICaseRunner
{
    public string CaseName => "sd15_text_encoder";

    public void Run(CaseContext ctx)
    {
        var file = ctx.Checkpoint;
        var family = ModelFamily.Detect(file);
        var encoders = family.TextEncoders.Select(s => ClipTextEncoder.Load(ctx.Backend, file, s)).ToList();
        try
        {
            foreach (var input in ctx.Case.Inputs.Where(n => n.EndsWith("_tokens", StringComparison.Ordinal)))
            {
                var ids = Array.ConvertAll(ctx.InputI64(input), v => checked((int)v));
                int n = ctx.InputShape(input)[^1], windows = ids.Length / n;
                int width = encoders.Sum(e => e.Width);
                var hidden = new float[windows * n * width];
                for (int w = 0; w < windows; w++)
                {
                    var features = encoders.Select(e => (e.Encode(ids.AsSpan(w * n, n), pooled: false).Hidden, e.Width)).ToList();
                    FeatureConcat.Concat(features).CopyTo(hidden, w * n * width);
                }
                ctx.Emit(input[..^"_tokens".Length] + "_hidden", hidden);
            }
        }
        finally
        {
            foreach (var e in encoders) e.Dispose();
        }
    }
}
