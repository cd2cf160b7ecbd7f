using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// prompt_conditioning: Forge's prompt processing of each settings.prompts[i]: the chunk windows for both encoders,
/// the per-token weights, Forge's token count, the emphasised context and the pooled output.
/// </summary>
public sealed class PromptConditioningCase : ICaseRunner
{
    public string CaseName => "prompt_conditioning";

    public void Run(CaseContext ctx)
    {
        string weights = ctx.Case.Uses.FirstOrDefault(u => ctx.Manifest.Find(u)?.Kind == "weights")
                         ?? throw new NotSupportedException("the case declares no weights file");
        var vocab = ctx.UsesPathEndingWith(".txt.gz") ?? throw new NotSupportedException("the case declares no CLIP vocabulary");
        var s = ctx.Settings;
        var chunker = new PromptChunker(ClipTokenizer.Load(vocab),
            s.GetProperty("chunk_length").GetInt32(),
            s.GetProperty("comma_backtrack").GetInt32(),
            EmphasisModes.Parse(s.GetProperty("emphasis").GetString() ?? ""));
        var file = ctx.Weights(weights);
        var family = Models.ModelFamily.Detect(file);
        using var conditioner = TextConditioner.Load(ctx.Backend, file, family, chunker);
        int i = 0;
        foreach (var prompt in s.GetProperty("prompts").EnumerateArray())
        {
            string p = $"p{i++}";
            var chunks = chunker.Split(prompt.GetString() ?? "");
            ctx.Emit(p + "_tokens_l", chunks.Chunks.SelectMany(c => c.Tokens).Select(t => (long)t).ToArray());
            ctx.Emit(p + "_tokens_g", chunks.Chunks.SelectMany(c => conditioner.TokensFor(family.TextEncoders[1], c)).Select(t => (long)t).ToArray());
            ctx.Emit(p + "_multipliers", chunks.Chunks.SelectMany(c => c.Multipliers).ToArray());
            ctx.Emit(p + "_token_count", [(long)chunks.TokenCount]);
            var embedding = conditioner.Encode(chunks);
            ctx.Emit(p + "_context", embedding.Context);
            ctx.Emit(p + "_pooled", embedding.Pooled);
        }
    }
}
