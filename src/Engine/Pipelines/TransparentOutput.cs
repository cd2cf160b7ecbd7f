using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// The last step of every transparent workflow (and of `ld decode`): the VAE-decoded RGB bytes and the unscaled
/// latent through the 8-way transparent decoder, to straight RGBA bytes and Forge's checkerboard preview. The pixel
/// input is the 8-bit image, not the VAE's float output: Forge feeds the decoder ToTensor(PIL image), so the
/// quantisation is part of the result (research/layerdiffusion.md §4.1). The latent stays on the device.
/// </summary>
public static class TransparentOutput
{
    /// <param name="rgb">One image's RGB bytes [H, W, 3], as the VAE decoded them.</param>
    /// <param name="latent">Its VAE latent [1, C, H/8, W/8] (sampler latent / the family's latent scale) on <paramref name="b"/>.</param>
    /// <param name="cancel">Checked between the decoder's passes.</param>
    public static (byte[] Rgba, byte[] Preview) Decode(IBackend b, TransparentDecoder decoder, byte[] rgb, Tensor latent, int height, int width,
        CancellationToken cancel = default)
    {
        if (height % 8 != 0 || width % 8 != 0 || latent.Rank != 4 || latent.Dim(0) != 1 || latent.Dim(2) != height / 8 || latent.Dim(3) != width / 8)
            throw new ArgumentException($"a latent {Shape.Format(latent.Shape)} does not fit a {width}x{height} image");
        using var scope = TensorScope.Open();
        var pixel = b.FromHost(ImageBytes.ToPlanarUnit(rgb, height, width, 3), 1, 3, height, width);
        var decoded = b.ToHost(decoder.DecodeAugmented(pixel, latent, cancel));
        NonFiniteGuard.Check(decoded, "the transparent decoder", "decoding the alpha channel");
        return (ImageBytes.StraightRgba(decoded, height, width), ImageBytes.CheckerboardPreview(decoded, height, width));
    }
}
