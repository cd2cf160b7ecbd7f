using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>
/// Prompt text → SDXL conditioning as Forge computes it (sdxl.md 4.5): A1111 attention syntax, 75-token chunks,
/// each chunk through CLIP-L (padded with the end token) and OpenCLIP-G (padded with 0 after the first end token),
/// emphasis per chunk and encoder, L ‖ G along features, chunks along tokens, pooled = G's pooled of chunk 0.
/// Owns both encoders; dispose it once the prompts are encoded to free their weights.
/// </summary>
public sealed class SdxlTextConditioner : IDisposable
{
    /// <summary>Forge's tokenizer_2 pads with "!", id 0 of the CLIP vocabulary (sdxl.md 4.4).</summary>
    public const int OpenClipPadToken = 0;

    private readonly ClipTextEncoder _clipL, _clipG;

    public SdxlTextConditioner(ClipTextEncoder clipL, ClipTextEncoder clipG, PromptChunker chunker)
    {
        if (!clipG.HasPooled) throw new ArgumentException("OpenCLIP-G must be loaded with its pooled output", nameof(clipG));
        foreach (var (enc, name) in new[] { (clipL, "CLIP-L"), (clipG, "OpenCLIP-G") })
        {
            if (chunker.WindowLength > enc.MaxPositions)
                throw new InvalidOptionException("chunk length", $"windows of {chunker.WindowLength} tokens exceed {name}'s {enc.MaxPositions} positions");
            if (chunker.Tokenizer.VocabSize > enc.VocabSize)
                throw new LdException($"the tokenizer produces ids up to {chunker.Tokenizer.VocabSize - 1} but {name}'s vocabulary has {enc.VocabSize}; it does not belong to this checkpoint");
        }
        _clipL = clipL;
        _clipG = clipG;
        Chunker = chunker;
    }

    /// <summary>Loads both encoders of an SDXL checkpoint (sgm key layout) with Forge's defaults: 75-token chunks, backtrack 20, "Original" emphasis.</summary>
    public static SdxlTextConditioner Load(IBackend backend, SafeTensorsFile checkpoint, ITokenizer tokenizer, EmphasisMode emphasis = EmphasisMode.Original) =>
        Load(backend, checkpoint, new PromptChunker(tokenizer, emphasis: emphasis));

    /// <summary>Loads both encoders of an SDXL checkpoint (sgm key layout) with the given prompt chunking.</summary>
    public static SdxlTextConditioner Load(IBackend backend, SafeTensorsFile checkpoint, PromptChunker chunker)
    {
        var clipL = ClipTextEncoder.LoadClipL(backend, checkpoint);
        try
        {
            var clipG = ClipTextEncoder.LoadOpenClipG(backend, checkpoint);
            try { return new SdxlTextConditioner(clipL, clipG, chunker); }
            catch { clipG.Dispose(); throw; }
        }
        catch { clipL.Dispose(); throw; }
    }

    public PromptChunker Chunker { get; }
    public int ContextWidth => _clipL.Width + _clipG.Width;
    public int PooledWidth => _clipG.ProjectionWidth;
    public int TokensPerChunk => Chunker.WindowLength;

    public PromptEmbedding Encode(string prompt) => Encode(Chunker.Split(prompt));

    /// <summary>
    /// The negative prompt as Forge conditions it: an empty negative prompt ("" exactly) gives zeros for both the
    /// context and the pooled output (force_zero_negative_prompt, one chunk wide); anything else is encoded normally.
    /// </summary>
    public PromptEmbedding EncodeNegative(string negativePrompt) =>
        negativePrompt.Length == 0 ? Zeros() : Encode(negativePrompt);

    /// <summary>Zero conditioning shaped like an encoded empty prompt (one chunk).</summary>
    public PromptEmbedding Zeros() =>
        new(new float[TokensPerChunk * ContextWidth], new float[PooledWidth], 1, TokensPerChunk, ContextWidth, 0) { IsZero = true };

    public PromptEmbedding Encode(PromptChunks chunks)
    {
        int w = ContextWidth, n = TokensPerChunk;
        var context = new float[chunks.Count * n * w];
        float[]? pooled = null;
        for (int c = 0; c < chunks.Count; c++)
        {
            var chunk = chunks.Chunks[c];
            var l = _clipL.Encode(chunk.Tokens, pooled: false);
            var g = _clipG.Encode(chunk.PaddedAfterEnd(Chunker.Tokenizer.EndToken, OpenClipPadToken), pooled: c == 0);
            pooled ??= g.Pooled;
            Emphasis.Apply(l.Penultimate, l.Width, chunk.Multipliers, Chunker.Emphasis);
            Emphasis.Apply(g.Penultimate, g.Width, chunk.Multipliers, Chunker.Emphasis);
            FeatureConcat.Concat(l.Penultimate, l.Width, g.Penultimate, g.Width).CopyTo(context, c * n * w);
        }
        return new PromptEmbedding(context, pooled!, chunks.Count, n, w, chunks.TokenCount);
    }

    public void Dispose()
    {
        _clipL.Dispose();
        _clipG.Dispose();
    }
}
