using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.LayerDiffusion;

/// <summary>
/// LayerDiffusion's transparent VAE encoder (LatentTransparencyOffsetEncoder): a plain conv stack over
/// [alpha, padded RGB] in [0, 1] that outputs a latent-sized offset; img2img uses z = mean + std · offset.
/// The released file keeps nn.Sequential indices: convs at blocks.0, 2, ..., with SiLU between them (odd indices).
/// All convs are 3×3, padding 1; the stack is stage pairs (widen, keep), and each stage after the first opens
/// with a stride-2 conv (blocks.4, 8, 12 in the release), then a final conv to the latent channels.
/// </summary>
public sealed class TransparentEncoder
{
    private readonly IBackend _b;
    private readonly Conv2d[] _convs;

    public int InChannels { get; }
    public int LatentChannels { get; }
    /// <summary>Pixels per latent cell: 2 to the number of stride-2 convs (8 for the released encoder).</summary>
    public int Downscale { get; }

    public static TransparentEncoder Load(IBackend backend, SafeTensorsFile file) => new(WeightStore.Load(backend, file, ""));

    public TransparentEncoder(WeightStore w) : this(w, Widths(w)) { }

    /// <summary>
    /// The stack over <paramref name="widths"/>: the input channels, then every conv's output channels (stage pairs,
    /// then the latent's); from a loaded store or a <see cref="LayoutRecorder"/>.
    /// </summary>
    public TransparentEncoder(WeightSource vs, int[] widths)
    {
        _b = vs.Backend;
        int n = widths.Length - 1;
        if (n < 2) throw vs.Error("blocks.0.weight", "missing: not a transparent VAE encoder (LatentTransparencyOffsetEncoder) file");
        if (n % 2 == 0) throw vs.Error($"blocks.{2 * (n - 1)}.weight", $"{n} convs: expected stage pairs plus one output conv (an odd count)");
        // Stage s ≥ 1 starts at conv 2s, stride 2; the last conv (n - 1) is the output head, not a stage.
        _convs = [.. Enumerable.Range(0, n).Select(j =>
            new Conv2d(vs.Pp($"blocks.{2 * j}"), widths[j], widths[j + 1], 3, stride: j >= 2 && j % 2 == 0 && j < n - 1 ? 2 : 1, padding: 1))];
        InChannels = widths[0];
        LatentChannels = widths[^1];
        Downscale = _convs.Aggregate(1, (scale, c) => scale * c.Stride);
    }

    /// <summary>The input channels and every conv's output channels, read from the released key layout.</summary>
    private static int[] Widths(WeightSource w)
    {
        int n = w.CountOf(j => $"blocks.{2 * j}.weight");
        return n == 0 ? [0] : [w.Dims("blocks.0.weight").OfRank(4)[1], .. Enumerable.Range(0, n).Select(j => w.Dims($"blocks.{2 * j}.weight").OfRank(4)[0])];
    }

    /// <summary>[B, 4, H, W] (alpha, padded RGB; H, W multiples of <see cref="Downscale"/>) → offset [B, 4, H/8, W/8].</summary>
    public Tensor Forward(Tensor input)
    {
        if (input.Rank != 4 || input.Dim(1) != InChannels)
            throw new ArgumentException($"transparent encoder: input must be [B, {InChannels}, H, W], got {Shape.Format(input.Shape)}");
        if (input.Dim(2) % Downscale != 0 || input.Dim(3) % Downscale != 0)
            throw new ArgumentException($"transparent encoder: image size {input.Dim(3)}x{input.Dim(2)} is not a multiple of {Downscale}");
        using var range = Profiling.Nvtx.Range("transparent_encoder");
        // conv, SiLU, conv, SiLU, ..., conv: each link freed once the next exists.
        var steps = _convs.SelectMany(c => new Func<Tensor, Tensor>[] { h => c.Forward(_b, h), _b.Silu }).SkipLast(1);
        return TensorScope.Chain(input, [.. steps]);
    }

    /// <summary>
    /// The encoder input for one RGBA image (bytes [H, W, 4]): planar [4, H, W] of alpha / 255 then
    /// <see cref="PadRgb"/>'s colour, the channel order the released weights were trained with.
    /// </summary>
    public static float[] BuildInput(ReadOnlySpan<byte> rgba, int width, int height)
    {
        var padded = PadRgb.Compute(rgba, width, height);
        int plane = width * height;
        var chw = new float[4 * plane];
        for (int i = 0; i < plane; i++)
        {
            chw[i] = rgba[i * 4 + 3] / 255f;
            for (int c = 0; c < 3; c++) chw[(c + 1) * plane + i] = padded.Data[i * 3 + c];
        }
        return chw;
    }
}
