using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.LayerDiffusion;

/// <summary>One down or up block of the transparent decoder's UNet1024.</summary>
public sealed record TransparentDecoderBlock(int OutChannels, int Layers, bool HasAttention, bool Resamples);

/// <summary>
/// The configuration of LayerDiffusion's transparent VAE decoder (UNet1024), read from the tensor shapes of a file in
/// the released diffusers key layout: block widths from each block's first conv, layer counts from the resnets
/// present, attention and resampling from the keys present. Two things are not visible in shapes and are the
/// architecture's constants: GroupNorm uses 4 groups (eps 1e-5) everywhere, and attention heads are 8 wide.
/// </summary>
public sealed record TransparentDecoderConfig(
    int PixelChannels,
    int OutChannels,
    int LatentChannels,
    int BaseChannels,
    TransparentDecoderBlock[] Down,
    TransparentDecoderBlock[] Up)
{
    public const int Groups = 4;
    public const float Eps = 1e-5f;
    public static Models.AttentionHeads Heads => Models.AttentionHeads.OfWidth(8);
    /// <summary>Pixels per latent cell (the SDXL VAE's factor); the latent is added where the state is this much smaller.</summary>
    public const int LatentFactor = 8;

    /// <summary>Image sides must be multiples of this: each downsampler halves, and skips are concatenated back.</summary>
    public int SizeMultiple => 1 << Down.Count(b => b.Resamples);

    /// <summary>
    /// Down block before which the projected latent is added: the first one that runs at 1/8 resolution (after as many
    /// downsamplers as halve 8 down to 1); -1 when none does.
    /// </summary>
    public int LatentBlock =>
        Enumerable.Range(0, Down.Length).FirstOrDefault(i => 1 << Down.Take(i).Count(b => b.Resamples) == LatentFactor, -1);

    public static TransparentDecoderConfig Infer(WeightSource f)
    {
        IO.TensorDims Conv(string name) => f.Has(name) ? f.Dims(name).OfRank(4) : throw f.Error(name, "missing: not a transparent VAE decoder (UNet1024) file");
        var (convIn, latentIn, convOut) = (Conv("conv_in.weight"), Conv("latent_conv_in.weight"), Conv("conv_out.weight"));
        var down = ReadBlocks(f.Pp("down_blocks"), "downsamplers");
        var up = ReadBlocks(f.Pp("up_blocks"), "upsamplers");
        if (down.Length == 0) throw f.Error("down_blocks.0.resnets.0.conv1.weight", "missing: no down blocks");
        if (up.Length != down.Length)
            throw new ModelFormatException(f.Source, null, $"{down.Length} down blocks but {up.Length} up blocks");
        Conv("mid_block.resnets.0.conv1.weight");
        return new TransparentDecoderConfig(convIn[1], convOut[0], latentIn[1], convIn[0], down, up);
    }

    /// <summary>Each block's width from its first conv, its layers from the resnets present, attention and resampling from the keys present.</summary>
    private static TransparentDecoderBlock[] ReadBlocks(WeightSource blocks, string resampler) =>
        Enumerable.Range(0, blocks.CountOf(i => $"{i}.resnets.0.conv1.weight")).Select(i => blocks.Pp($"{i}")).Select(b => new TransparentDecoderBlock(
            b.Dims("resnets.0.conv1.weight")[0], b.CountOf(j => $"resnets.{j}.conv1.weight"), b.Has("attentions.0.to_q.weight"), b.Has($"{resampler}.0.conv.weight")))
        .ToArray();
}
