using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.LayerDiffusion;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// The last step of every transparent workflow (and of `ld decode`): the VAE-decoded RGB bytes and the unscaled
/// latent through the 8-way transparent decoder, to straight RGBA bytes and Forge's checkerboard preview.
/// </summary>
public static class TransparentOutput
{
    /// <param name="rgb">One image's RGB bytes [H, W, 3], as the VAE decoded them.</param>
    /// <param name="unscaledLatent">Its VAE latent [C, H/8, W/8] (sampler latent / 0.13025).</param>
    public static (byte[] Rgba, byte[] Preview) Decode(IBackend b, TransparentDecoder decoder, byte[] rgb, float[] unscaledLatent, int height, int width)
    {
        int cells = height / 8 * (width / 8);
        if (height % 8 != 0 || width % 8 != 0 || unscaledLatent.Length % cells != 0)
            throw new ArgumentException($"a latent of {unscaledLatent.Length} values does not fit a {width}x{height} image");
        using var pixel = b.FromHost(ImageBytes.ToPlanarUnit(rgb, height, width, 3), 1, 3, height, width);
        using var latent = b.FromHost(unscaledLatent, 1, unscaledLatent.Length / cells, height / 8, width / 8);
        float[] decoded;
        using (var d = decoder.DecodeAugmented(pixel, latent)) decoded = b.ToHost(d);
        NonFiniteGuard.Check(decoded, "the transparent decoder", "decoding the alpha channel");
        return (ImageBytes.StraightRgba(decoded, height, width), ImageBytes.CheckerboardPreview(decoded, height, width));
    }
}
