namespace LayerDiffusion.Native.Text;

/// <summary>
/// A1111/Forge sd_emphasis after_transformers on one chunk's hidden states z [tokens, width]:
/// "Original": m0 = mean(z); z = z · w[token]; z = z · (m0 / mean(z)). "No norm": the multiply alone. "None": nothing.
/// Arithmetic is float32 like the torch tensors; the means are accumulated in double.
/// </summary>
public static class Emphasis
{
    public static void Apply(Span<float> z, int width, ReadOnlySpan<float> multipliers, EmphasisMode mode)
    {
        if (mode == EmphasisMode.None) return;
        int tokens = multipliers.Length;
        if (z.Length != tokens * width) throw new ArgumentException($"hidden states of {z.Length} values do not match {tokens} tokens of width {width}");
        float originalMean = Mean(z);
        for (int t = 0; t < tokens; t++)
        {
            float w = multipliers[t];
            foreach (ref float v in z.Slice(t * width, width)) v *= w;
        }
        if (mode != EmphasisMode.Original) return;
        float ratio = originalMean / Mean(z);
        foreach (ref float v in z) v *= ratio;
    }

    private static float Mean(ReadOnlySpan<float> z)
    {
        double sum = 0;
        foreach (float v in z) sum += v;
        return (float)(sum / z.Length);
    }
}
