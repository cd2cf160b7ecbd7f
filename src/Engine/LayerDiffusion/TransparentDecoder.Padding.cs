namespace LayerDiffusion.Native.LayerDiffusion;

public sealed partial class TransparentDecoder
{
    /// <summary>
    /// Pixels added on each side so both sides become multiples of the network's size multiple (64 for UNet1024).
    /// Every amount is a multiple of 8, so the latent pads by exactly 1/8 of it and stays aligned with the pixels.
    /// </summary>
    public readonly record struct Padding(int Top, int Bottom, int Left, int Right)
    {
        public bool IsNone => Top == 0 && Bottom == 0 && Left == 0 && Right == 0;

        public static Padding For(int height, int width, int multiple)
        {
            var (top, bottom) = Split(height, multiple);
            var (left, right) = Split(width, multiple);
            return new Padding(top, bottom, left, right);
        }

        /// <summary>Centres the image: the smaller half (in whole latent cells) goes first.</summary>
        private static (int Before, int After) Split(int size, int multiple)
        {
            int total = (size + multiple - 1) / multiple * multiple - size;
            int before = total / TransparentDecoderConfig.LatentFactor / 2 * TransparentDecoderConfig.LatentFactor;
            return (before, total - before);
        }
    }

    /// <summary>
    /// The reference implementations reject sides that are not multiples of 64 (the skips no longer line up). We
    /// accept any multiple of 8 by mirror-padding pixel and latent about their edges (numpy's "symmetric" mode: the
    /// edge row is repeated, so a padded latent cell is exactly the mirror image of the 8×8 pixel block it covers),
    /// centring the image, and cropping the output back. Mirrored content keeps the network's border statistics
    /// natural, so the crop differs from an unpadded run only near the edges.
    /// </summary>
    public (Tensor Pixel, Tensor Latent) PadForNetwork(Tensor pixel, Tensor latent, Padding pad)
    {
        const int f = TransparentDecoderConfig.LatentFactor;
        return (MirrorPad(_b, pixel, pad.Top, pad.Bottom, pad.Left, pad.Right), MirrorPad(_b, latent, pad.Top / f, pad.Bottom / f, pad.Left / f, pad.Right / f));
    }

    /// <summary>Undoes <see cref="PadForNetwork"/> on a decoder output.</summary>
    public Tensor CropFromNetwork(Tensor y, Padding pad)
    {
        using var scope = TensorScope.Open();
        int h = y.Dim(2) - pad.Top - pad.Bottom, w = y.Dim(3) - pad.Left - pad.Right;
        return scope.MoveToOuter(_b.Slice(_b.Slice(y, 2, pad.Top, h), 3, pad.Left, w));
    }

    /// <summary>Symmetric mirror padding of NCHW along H and W; pads wider than the image mirror repeatedly.</summary>
    internal static Tensor MirrorPad(IBackend b, Tensor x, int top, int bottom, int left, int right)
    {
        using var scope = TensorScope.Open();
        var padded = MirrorPadAxis(b, MirrorPadAxis(b, x, 2, top, bottom), 3, left, right);
        // Always a new tensor, so the caller may dispose it without touching x.
        return scope.MoveToOuter(ReferenceEquals(padded, x) ? b.Slice(x, 3, 0, x.Dim(3)) : padded);
    }

    private static Tensor MirrorPadAxis(IBackend b, Tensor x, int axis, int before, int after)
    {
        var cur = x;
        while (before > 0 || after > 0)
        {
            int size = cur.Dim(axis), nb = Math.Min(before, size), na = Math.Min(after, size);
            var parts = new List<Tensor>(3);
            if (nb > 0) parts.Add(FlipAxis(b, cur, axis, 0, nb));
            parts.Add(cur);
            if (na > 0) parts.Add(FlipAxis(b, cur, axis, size - na, na));
            cur = b.Concat(axis, parts.ToArray());
            before -= nb;
            after -= na;
        }
        return cur;
    }

    /// <summary>A slab of <paramref name="length"/> rows (axis 2) or columns (axis 3), reversed along that axis.</summary>
    private static Tensor FlipAxis(IBackend b, Tensor x, int axis, int start, int length)
    {
        // FlipRot flips W first, then rotates; a W flip followed by a half turn is an H flip.
        return b.FlipRot(b.Slice(x, axis, start, length), flipW: true, k: axis == 3 ? 0 : 2, inverse: false);
    }
}
