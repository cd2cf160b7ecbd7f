namespace LayerDiffusion.Native.Text;

/// <summary>
/// One encoder window: [start] + chunk tokens + end-token padding + [end], with the attention weight of each
/// position (1 on the start, end and padding).
/// </summary>
public sealed record PromptChunk(int[] Tokens, float[] Multipliers)
{
    /// <summary>
    /// The ids OpenCLIP-G sees: everything after the first end token replaced by <paramref name="pad"/>
    /// (Forge's tokenizer_2 pads with "!", id 0; the first end token stays, so the pooled argmax still finds it).
    /// </summary>
    public int[] PaddedAfterEnd(int endToken, int pad)
    {
        var ids = (int[])Tokens.Clone();
        int first = Array.IndexOf(ids, endToken);
        if (first >= 0) ids.AsSpan(first + 1).Fill(pad);
        return ids;
    }
}

/// <summary>A prompt split into encoder windows, with Forge's token count (what the UI shows as "n/75").</summary>
public sealed record PromptChunks(IReadOnlyList<PromptChunk> Chunks, int TokenCount)
{
    public int Count => Chunks.Count;
    public int TokensPerChunk => Chunks[0].Tokens.Length;
}
