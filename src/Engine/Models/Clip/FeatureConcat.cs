namespace LayerDiffusion.Native.Models.Clip;

/// <summary>A family's crossattn context: per token, each text encoder's features in order (torch.cat(dim=-1)).</summary>
public static class FeatureConcat
{
    /// <summary>[tokens, width₀] ‖ [tokens, width₁] ‖ … → [tokens, Σ widths].</summary>
    public static float[] Concat(IReadOnlyList<(float[] Data, int Width)> parts)
    {
        int tokens = parts[0].Data.Length / parts[0].Width, w = parts.Sum(p => p.Width);
        foreach (var (data, width) in parts)
            if (data.Length != tokens * width)
                throw new ArgumentException($"cannot concatenate {data.Length} values of width {width} with {tokens} tokens");
        var result = new float[tokens * w];
        int offset = 0;
        foreach (var (data, width) in parts)
        {
            for (int t = 0; t < tokens; t++) data.AsSpan(t * width, width).CopyTo(result.AsSpan(t * w + offset, width));
            offset += width;
        }
        return result;
    }
}
