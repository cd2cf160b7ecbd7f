using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Vae;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// transparent_encoder: pad_rgb of an RGBA image, the transparent encoder's offset, and transparent img2img's
/// regulated latent: the image flattened over grey 127 (bytes, then [−1, 1]), its VAE posterior, and
/// z = mean + std · offset.
/// </summary>
public sealed class TransparentEncoderCase : ICaseRunner
{
    public string CaseName => "transparent_encoder";

    public void Run(CaseContext ctx)
    {
        var b = NetworkPrecision.ForVae(ctx.Backend);
        var shape = ctx.InputShape("rgba");
        if (shape.Length != 3 || shape[2] != 4) throw new ArgumentException($"rgba input must be [H, W, 4], got [{string.Join(", ", shape)}]");
        int h = shape[0], w = shape[1];
        var rgba = ctx.InputU8("rgba");

        var padded = PadRgb.Compute(rgba, w, h);
        ctx.Emit("padded_rgb", padded.Data);

        var encoder = TransparentEncoder.Load(b, ctx.WeightsWhere(f => f.Contains("blocks.0.weight") && !f.Contains("latent_conv_in.weight"), "the transparent encoder"));
        float[] offset;
        using (var input = b.FromHost(TransparentEncoder.BuildInput(rgba, w, h), 1, 4, h, w))
        using (var off = encoder.Forward(input))
            offset = b.ToHost(off);
        ctx.Emit("offset", offset);

        var flattened = AlphaFlatten.ToSignedPlanar(AlphaFlatten.OverColor(rgba, w, h), w, h);
        ctx.Emit("flattened_rgb", flattened);

        var vae = SdxlVae.Load(b, ctx.WeightsHolding(SdxlVae.CheckpointPrefix + "encoder.conv_in.weight"));
        using var pixels = b.FromHost(flattened, 1, 3, h, w);
        var (mean, logVar) = vae.EncodeMoments(pixels);
        float[] meanHost, std;
        using (mean)
        using (logVar)
        {
            meanHost = b.ToHost(mean);
            std = TransparentLatentOffset.Std(b.ToHost(logVar));
        }
        ctx.Emit("post_mean", meanHost);
        ctx.Emit("post_std", std);
        ctx.Emit("z_regulated", TransparentLatentOffset.Regulate(meanHost, std, offset));
    }
}
