using Xunit;

namespace LayerDiffusion.Native.Tests.Lora;

/// <summary>The check every user-LoRA merge test makes: merged = W + scale·(up @ down), with up @ down summed in double.</summary>
internal static class LoraMergeAssert
{
    /// <param name="up">[rows, rank] as stored.</param>
    /// <param name="down">[rank, cols] (a conv's [rank, in, kh, kw] flattened).</param>
    public static void Merged(float[] w0, float[] merged, float[] up, float[] down, int rank, double scale, string label)
    {
        Assert.Equal(w0.Length, merged.Length);
        int rows = up.Length / rank, cols = w0.Length / rows;
        for (int o = 0; o < rows; o++)
            for (int i = 0; i < cols; i++)
            {
                double delta = 0, magnitude = 0;
                for (int r = 0; r < rank; r++)
                {
                    double term = (double)up[o * rank + r] * down[r * cols + i];
                    delta += term;
                    magnitude += Math.Abs(term);
                }
                double expected = w0[o * cols + i] + scale * delta;
                // An fp32 merge: a few ulps (eps 1.2e-7) of the magnitudes summed, cancellation included.
                Assert.True(Math.Abs(merged[o * cols + i] - expected) <= 1e-6 * (Math.Abs(w0[o * cols + i]) + scale * magnitude),
                    $"{label}[{o},{i}]: {merged[o * cols + i]} vs {expected}");
            }
    }
}
