namespace LayerDiffusion.Native.Models.Clip;

/// <summary>SDXL's crossattn context: per token, CLIP-L's features then OpenCLIP-G's (torch.cat(dim=-1)).</summary>
public static class FeatureConcat
{
    /// <summary>[tokens, widthA] ‖ [tokens, widthB] → [tokens, widthA + widthB].</summary>
    public static float[] Concat(ReadOnlySpan<float> a, int widthA, ReadOnlySpan<float> b, int widthB)
    {
        int tokens = a.Length / widthA;
        if (a.Length != tokens * widthA || b.Length != tokens * widthB)
            throw new ArgumentException($"cannot concatenate {a.Length} values of width {widthA} with {b.Length} of width {widthB}");
        int w = widthA + widthB;
        var result = new float[tokens * w];
        for (int t = 0; t < tokens; t++)
        {
            a.Slice(t * widthA, widthA).CopyTo(result.AsSpan(t * w, widthA));
            b.Slice(t * widthB, widthB).CopyTo(result.AsSpan(t * w + widthA, widthB));
        }
        return result;
    }
}
