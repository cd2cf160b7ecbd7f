namespace LayerDiffusion.Native.Models.Clip;

/// <summary>
/// An encoded prompt: the crossattn context [1, Chunks · TokensPerChunk, ContextWidth] (CLIP-L ‖ OpenCLIP-G per
/// token, chunks along tokens) and OpenCLIP-G's pooled output [1, PooledWidth] of the first chunk.
/// </summary>
public sealed record PromptEmbedding(float[] Context, float[] Pooled, int Chunks, int TokensPerChunk, int ContextWidth, int TokenCount)
{
    /// <summary>True for Forge's zeroed empty negative prompt.</summary>
    public bool IsZero { get; init; }

    public int ContextTokens => Chunks * TokensPerChunk;
    public int[] ContextShape => [1, ContextTokens, ContextWidth];
    public int[] PooledShape => [1, Pooled.Length];
}
