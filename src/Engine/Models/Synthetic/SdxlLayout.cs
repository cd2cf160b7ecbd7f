using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Models.Vae;

namespace LayerDiffusion.Native.Models.Synthetic;

/// <summary>Text encoder and VAE sizes for a synthetic SDXL checkpoint.</summary>
public sealed record SdxlSizes(int ClipLWidth, int ClipLLayers, int ClipGWidth, int ClipGLayers, int ClipGProjection,
    int[] VaeChannels, int VaeResBlocks, int Vocab = 49408, int Positions = 77, int LatentChannels = 4)
{
    /// <summary>SDXL 1.0 base.</summary>
    public static SdxlSizes Real { get; } = new(768, 12, 1280, 32, 1280, [128, 256, 512, 512], 2);
}

/// <summary>
/// Every key and shape of a single-file SDXL checkpoint in the ldm/sgm layout, recorded from the networks' own
/// constructors (<see cref="LayoutRecorder"/>) for a configuration, so synthetic models (the --demo model, --synthetic
/// benchmarks) are exactly what the real loaders read. A test checks that the tiny golden checkpoint's own config
/// records exactly its key set.
/// </summary>
public static class SdxlLayout
{
    public static TensorLayout Checkpoint(UnetConfig unet, SdxlSizes sizes)
    {
        var family = ModelFamily.Sdxl;
        var l = new TensorLayout();
        Unet(l, unet, family.UnetPrefix);
        Clip(l, new ClipConfig(OpenClip: false, sizes.ClipLWidth, sizes.ClipLLayers, 4 * sizes.ClipLWidth, sizes.Vocab, sizes.Positions, 0), family.TextEncoders[0]);
        Clip(l, new ClipConfig(OpenClip: true, sizes.ClipGWidth, sizes.ClipGLayers, 4 * sizes.ClipGWidth, sizes.Vocab, sizes.Positions, sizes.ClipGProjection),
            family.TextEncoders[1]);
        _ = new SdxlVae(VaeConfig.Of(sizes.VaeChannels, sizes.VaeResBlocks, sizes.LatentChannels), new LayoutRecorder(l, family.VaePrefix));
        return l;
    }

    /// <summary>SDXL 1.0 base's UNet configuration.</summary>
    public static UnetConfig RealUnet { get; } = new(4, 4, 320, [1, 2, 4], 2, [0, 0, 2, 2, 10, 10], [10, 10, 10, 2, 2, 2, 0, 0, 0], 10, 2048, 2816, 1280, ModelFamily.Sdxl.UnetHeads);

    public static void Unet(TensorLayout l, UnetConfig c, string prefix) => _ = new SdxlUnet(c, new LayoutRecorder(l, prefix));

    private static void Clip(TensorLayout l, ClipConfig config, TextEncoderSpec spec) =>
        _ = new ClipTextEncoder(new LayoutRecorder(l, spec.Prefix, config.Keys), config, spec);
}
