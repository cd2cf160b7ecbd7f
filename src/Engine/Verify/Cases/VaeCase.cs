using LayerDiffusion.Native.Models.Vae;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>vae: decode of a sampler latent (z / 0.13025) and the encoder's posterior moments of an image.</summary>
public sealed class VaeCase : ICaseRunner
{
    public string CaseName => "vae";

    public void Run(CaseContext ctx)
    {
        var b = NetworkPrecision.ForVae(ctx.Backend);
        var vae = SdxlVae.Load(b, ctx.WeightsHolding(SdxlVae.CheckpointPrefix + "encoder.conv_in.weight"));
        using (var z = ctx.InputTensor("z", b))
        using (var unscaled = b.Affine(z, 1f / Models.ModelFamily.Sdxl.LatentScale, 0f))
        using (var decoded = vae.Decode(unscaled))
            ctx.Emit("decoded", b.ToHost(decoded));

        using var pixels = ctx.InputTensor("pixels", b);
        var (mean, logVar) = vae.EncodeMoments(pixels);
        using (mean)
        using (logVar)
        {
            ctx.Emit("enc_mean", b.ToHost(mean));
            ctx.Emit("enc_logvar", b.ToHost(logVar));
        }
    }
}
