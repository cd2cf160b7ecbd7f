using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>
/// Prompt text → a family's conditioning as Forge computes it (sdxl.md 4.5): A1111 attention syntax, 75-token chunks,
/// each chunk through every text encoder of the family (each padded its own way), emphasis per chunk and encoder, the
/// encoders' features side by side (SDXL: CLIP-L ‖ OpenCLIP-G), chunks along tokens, pooled = the pooling encoder's
/// output of chunk 0. Owns the encoders; dispose it once the prompts are encoded to free their weights.
/// </summary>
public sealed class TextConditioner : IDisposable
{
    private readonly ClipTextEncoder[] _encoders;
    private readonly ModelFamily _family;

    public TextConditioner(ModelFamily family, IReadOnlyList<ClipTextEncoder> encoders, PromptChunker chunker)
    {
        foreach (var enc in encoders)
        {
            if (chunker.WindowLength > enc.Config.Positions)
                throw new InvalidOptionException("chunk length",
                    $"windows of {chunker.WindowLength} tokens exceed {enc.Spec.Name}'s {enc.Config.Positions} positions");
            if (chunker.Tokenizer.VocabSize > enc.Config.VocabSize)
                throw new LdException($"the tokenizer produces ids up to {chunker.Tokenizer.VocabSize - 1} but {enc.Spec.Name}'s vocabulary has " +
                    $"{enc.Config.VocabSize}; it does not belong to this checkpoint");
        }
        _family = family;
        _encoders = encoders.ToArray();
        Chunker = chunker;
    }

    /// <summary>Loads the family's text encoders from a single-file checkpoint with Forge's defaults: 75-token chunks, backtrack 20, "Original" emphasis.</summary>
    public static TextConditioner Load(IBackend backend, SafeTensorsFile checkpoint, ModelFamily family, ITokenizer tokenizer, EmphasisMode emphasis = EmphasisMode.Original) =>
        Load(backend, checkpoint, family, new PromptChunker(tokenizer, emphasis: emphasis));

    /// <summary>
    /// Loads the family's text encoders from a single-file checkpoint with the given prompt chunking, with the
    /// user LoRAs' text-encoder modules merged in (lora_te1_/lora_te2_ by encoder order, lora_te_ for a single encoder).
    /// </summary>
    public static TextConditioner Load(IBackend backend, SafeTensorsFile checkpoint, ModelFamily family, PromptChunker chunker, IReadOnlyList<Lora.TextLora>? loras = null)
    {
        var encoders = new List<ClipTextEncoder>();
        try
        {
            var specs = family.TextEncoders;
            if (loras is { Count: > 0 }) Lora.TextEncoderLoras.CheckPrefixes(loras, specs.Count);
            for (int i = 0; i < specs.Count; i++)
                encoders.Add(ClipTextEncoder.Load(backend, checkpoint, specs[i], loras, Lora.TextEncoderLoras.KohyaPrefix(i, specs.Count)));
            return new TextConditioner(family, encoders, chunker);
        }
        catch
        {
            foreach (var e in encoders) e.Dispose();
            throw;
        }
    }

    public PromptChunker Chunker { get; }
    public int ContextWidth => _encoders.Sum(e => e.Width);
    public int PooledWidth => _encoders.Sum(e => e.ProjectionWidth);
    public int TokensPerChunk => Chunker.WindowLength;

    public PromptEmbedding Encode(string prompt) => Encode(Chunker.Split(prompt));

    /// <summary>
    /// The negative prompt as Forge conditions it: in a family whose empty negative prompt is zeros (SDXL's
    /// force_zero_negative_prompt), "" exactly gives zeros for the context and the pooled output, shaped like an
    /// encoded empty prompt (one chunk); anything else is encoded normally.
    /// </summary>
    public PromptEmbedding EncodeNegative(string negativePrompt) => negativePrompt.Length == 0 && _family.EmptyNegativeIsZero
        ? new(new float[TokensPerChunk * ContextWidth], new float[PooledWidth], 1, TokensPerChunk, ContextWidth, 0) { IsZero = true }
        : Encode(negativePrompt);

    /// <summary>The ids encoder <paramref name="spec"/> sees for a chunk (OpenCLIP-G's padding after the end token).</summary>
    public int[] TokensFor(TextEncoderSpec spec, PromptChunk chunk) =>
        spec.PadAfterEnd is { } pad ? chunk.PaddedAfterEnd(Chunker.Tokenizer.EndToken, pad) : chunk.Tokens;

    public PromptEmbedding Encode(PromptChunks chunks)
    {
        int w = ContextWidth, n = TokensPerChunk;
        var context = new float[chunks.Count * n * w];
        float[]? pooled = null;
        for (int c = 0; c < chunks.Count; c++)
        {
            var chunk = chunks.Chunks[c];
            var features = new List<(float[] Data, int Width)>();
            foreach (var enc in _encoders)
            {
                var o = enc.Encode(TokensFor(enc.Spec, chunk), pooled: enc.Spec.Pooled && c == 0);
                pooled ??= o.Pooled;
                Emphasis.Apply(o.Hidden, o.Width, chunk.Multipliers, Chunker.Emphasis);
                features.Add((o.Hidden, o.Width));
            }
            FeatureConcat.Concat(features).CopyTo(context, c * n * w);
        }
        return new PromptEmbedding(context, pooled ?? [], chunks.Count, n, w, chunks.TokenCount);
    }

    public void Dispose()
    {
        foreach (var e in _encoders) e.Dispose();
    }
}
