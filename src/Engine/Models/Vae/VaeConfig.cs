using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.Models.Vae;

/// <summary>
/// One half of the autoencoder: conv_in from <paramref name="InChannels"/>, per level <paramref name="Blocks"/>[l] resnet
/// blocks of width <paramref name="Widths"/>[l] (level 0 at full resolution), the mid block at the deepest width, and
/// conv_out to <paramref name="OutChannels"/>. The encoder walks down from level 0, the decoder up from the deepest.
/// </summary>
public sealed record VaeCoderConfig(int InChannels, int OutChannels, int[] Widths, int[] Blocks);

/// <summary>SDXL's AutoencoderKL configuration, read from a checkpoint's shapes; either half may be absent.</summary>
public sealed record VaeConfig(int LatentChannels, VaeCoderConfig? Encoder, VaeCoderConfig? Decoder)
{
    /// <summary>SDXL's autoencoder with the given level widths and resnet blocks per encoder level (the decoder has one more).</summary>
    public static VaeConfig Of(int[] widths, int blocks, int latentChannels = 4) =>
        new(latentChannels, new VaeCoderConfig(3, 2 * latentChannels, widths, Enumerable.Repeat(blocks, widths.Length).ToArray()),
            new VaeCoderConfig(latentChannels, 3, widths, Enumerable.Repeat(blocks + 1, widths.Length).ToArray()));

    public static VaeConfig Infer(WeightSource w)
    {
        var encoder = InferCoder(w.Pp("encoder"), "down");
        var decoder = InferCoder(w.Pp("decoder"), "up");
        if (encoder is null && decoder is null) throw w.Error("decoder.conv_in.weight", "missing: no VAE encoder or decoder");
        return new VaeConfig(decoder?.InChannels ?? encoder!.OutChannels / 2, encoder, decoder);
    }

    private static VaeCoderConfig? InferCoder(WeightSource w, string levelGroup)
    {
        if (!w.Has("conv_in.weight")) return null;
        int levels = w.CountOf(l => $"{levelGroup}.{l}.block.0.conv1.weight");
        if (levels == 0) throw w.Error($"{levelGroup}.0.block.0.conv1.weight", "missing");
        var widths = Enumerable.Range(0, levels).Select(l => w.Dims($"{levelGroup}.{l}.block.0.conv1.weight")[0]).ToArray();
        var blocks = Enumerable.Range(0, levels).Select(l => w.CountOf(j => $"{levelGroup}.{l}.block.{j}.conv1.weight")).ToArray();
        return new VaeCoderConfig(w.Dims("conv_in.weight")[1], w.Dims("conv_out.weight")[0], widths, blocks);
    }
}
