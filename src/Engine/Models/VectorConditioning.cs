namespace LayerDiffusion.Native.Models;

/// <summary>
/// SDXL's vector conditioning y = pooled ‖ E(orig h) ‖ E(orig w) ‖ E(crop top) ‖ E(crop left) ‖ E(target h) ‖ E(target w),
/// each E a 256-wide sinusoidal embedding. Its width (1280 + 6·256 = 2816 in SDXL) must equal the UNet's adm width.
/// </summary>
public static class VectorConditioning
{
    public const int SizeEmbeddingWidth = 256;

    public static float[] Build(ReadOnlySpan<float> pooled, ReadOnlySpan<float> sizeConds)
    {
        var y = new float[pooled.Length + sizeConds.Length * SizeEmbeddingWidth];
        pooled.CopyTo(y);
        for (int i = 0; i < sizeConds.Length; i++)
            SinusoidalEmbedding.Write(sizeConds[i], y.AsSpan(pooled.Length + i * SizeEmbeddingWidth, SizeEmbeddingWidth));
        return y;
    }

    /// <summary>Size conditions for a generation: original = target = the image size, no crop.</summary>
    public static float[] SizeConds(int width, int height) => [height, width, 0, 0, height, width];
}
