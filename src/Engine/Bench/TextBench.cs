namespace LayerDiffusion.Native.Bench;

/// <summary>Text encoding: one prompt (one 77-token chunk) through CLIP-L and OpenCLIP-G, pooled output included, back on the host.</summary>
public static class TextBench
{
    /// <summary>Short enough to be one chunk for the CLIP tokenizer and for the synthetic byte-level one (75 tokens).</summary>
    public const string Prompt = "a glass bottle on a wooden table, studio light, high quality";

    public static void Run(BenchContext ctx)
    {
        if (ctx.Files.Tokenizer is null)
        {
            ctx.Skipped.Add(("text_encode", "no tokenizer (pass --tokenizer)"));
            return;
        }
        var text = ctx.Text;
        int tokens = text.Encode(Prompt).ContextTokens;
        ctx.Runner.Measure("text_encode", new BenchParams { Batch = 1, Tokens = tokens }, ctx.Settings.DType, () => text.Encode(Prompt));
    }
}
