namespace LayerDiffusion.Native.LayerDiffusion;

/// <summary>
/// The input of a concat-conditioned layer UNet: cat([x, c1(, c2)]) along channels, the condition latents after
/// the noisy latent, neither scaled by c_in nor noised. A batch-1 condition is repeated over every row of x (both
/// CFG halves get the same condition); the spatial size must match exactly.
/// </summary>
public static class ConcatInput
{
    public static Tensor Build(IBackend b, Tensor x, IReadOnlyList<Tensor> conditions)
    {
        using var scope = TensorScope.Open();
        int batch = x.Dim(0);
        var parts = new List<Tensor> { x };
        foreach (var c in conditions)
        {
            if (c.Rank != 4 || c.Dim(2) != x.Dim(2) || c.Dim(3) != x.Dim(3))
                throw new ArgumentException($"concat latent {Shape.Format(c.Shape)} does not match the latent {Shape.Format(x.Shape)} spatially");
            if (c.Dim(0) != batch && c.Dim(0) != 1)
                throw new ArgumentException($"concat latent batch {c.Dim(0)} is neither 1 nor the latent batch {batch}");
            parts.Add(c.Dim(0) == batch ? c : b.Concat(0, Enumerable.Repeat(c, batch).ToArray()));
        }
        return scope.MoveToOuter(b.Concat(1, parts.ToArray()));
    }
}
