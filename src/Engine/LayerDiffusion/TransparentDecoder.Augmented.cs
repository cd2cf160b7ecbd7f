using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.LayerDiffusion;

public sealed partial class TransparentDecoder
{
    /// <summary>
    /// The decode every reference uses: 8 passes over (flip along W or not) × (rot90 k = 0..3), applied to pixel and
    /// latent alike (flip first, then rotate); each output clipped to [0, 1] and transformed back (rotate by -k,
    /// then flip), then the element-wise lower median of the 8 (torch.median: the 4th smallest). Returns
    /// [B, 4, H, W] (alpha, straight RGB) in [0, 1]. Non-square images work: a quarter turn swaps H and W, and both
    /// are padded to the network's multiple once, before the passes (see <see cref="PadForNetwork"/>).
    /// </summary>
    public Tensor DecodeAugmented(Tensor pixel, Tensor latent)
    {
        CheckInputs(pixel, latent);
        var b = _b;
        var pad = Padding.For(pixel.Dim(2), pixel.Dim(3), Config.SizeMultiple);
        Tensor p = pixel, l = latent;
        if (!pad.IsNone) (p, l) = PadForNetwork(pixel, latent, pad);

        var passes = new Tensor[8];
        try
        {
            int n = 0;
            foreach (bool flip in (ReadOnlySpan<bool>)[false, true])
                for (int k = 0; k < 4; k++)
                {
                    Tensor y;
                    using (var fp = b.FlipRot(p, flip, k, inverse: false))
                    using (var fl = b.FlipRot(l, flip, k, inverse: false))
                        y = Network(fp, fl);
                    Tensor clipped;
                    using (y) clipped = b.Clamp(y, 0f, 1f);
                    using (clipped) passes[n++] = b.FlipRot(clipped, flip, k, inverse: true);
                }
            using var median = b.Median8(passes);
            // The median of values in [0, 1] is already in [0, 1]; the references clip once more, a no-op.
            return pad.IsNone ? b.Clamp(median, 0f, 1f) : CropFromNetwork(median, pad);
        }
        finally
        {
            foreach (var t in passes) t?.Dispose();
            if (!ReferenceEquals(p, pixel)) p.Dispose();
            if (!ReferenceEquals(l, latent)) l.Dispose();
        }
    }
}
