using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.LayerDiffusion;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// transparent_decoder: UNet1024 on (pixel, latent) in one pass and as the 8-way augmented median, then the
/// transparent PNG's RGBA bytes and the checkerboard preview of the augmented result.
/// </summary>
public sealed class TransparentDecoderCase : ICaseRunner
{
    public string CaseName => "transparent_decoder";

    public void Run(CaseContext ctx)
    {
        var b = NetworkPrecision.ForVae(ctx.Backend);
        var decoder = TransparentDecoder.Load(b, ctx.WeightsHolding("latent_conv_in.weight"));
        using var pixel = ctx.InputTensor("pixel", b);
        using var latent = ctx.InputTensor("latent", b);

        using (var single = decoder.Forward(pixel, latent))
            ctx.Emit("single", b.ToHost(single));

        using var augmented = decoder.DecodeAugmented(pixel, latent);
        var host = b.ToHost(augmented);
        ctx.Emit("augmented", host);

        // The byte outputs are per image ([H, W, C]); the case holds one.
        int h = augmented.Dim(2), w = augmented.Dim(3);
        var first = host.AsSpan(0, 4 * h * w);
        ctx.Emit("png_rgba", ImageBytes.StraightRgba(first, h, w));
        ctx.Emit("vis_rgb", ImageBytes.CheckerboardPreview(first, h, w));
    }
}
