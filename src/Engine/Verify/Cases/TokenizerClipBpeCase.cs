using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>tokenizer_clip_bpe: CLIP BPE ids (no start/end) of each settings.prompts[i] as p{i}.</summary>
public sealed class TokenizerClipBpeCase : ICaseRunner
{
    public string CaseName => "tokenizer_clip_bpe";

    public void Run(CaseContext ctx)
    {
        var vocab = ctx.UsesPathEndingWith(".txt.gz") ?? throw new NotSupportedException("the case declares no CLIP vocabulary");
        var tokenizer = ClipTokenizer.Load(vocab);
        int i = 0;
        foreach (var prompt in ctx.Settings.GetProperty("prompts").EnumerateArray())
        {
            var ids = tokenizer.Encode(prompt.GetString() ?? "");
            ctx.Emit($"p{i++}", Array.ConvertAll(ids, id => (long)id));
        }
    }
}
