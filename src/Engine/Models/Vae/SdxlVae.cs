using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;
using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Models.Vae;

/// <summary>
/// SDXL's AutoencoderKL (sgm diffusionmodules/model.py Encoder/Decoder, keys under "first_stage_model.").
/// Levels, widths and block counts are read from the checkpoint; GroupNorm is 32 groups, eps 1e-6, throughout.
///
///   Encoder: conv_in; per level: blocks × ResnetBlock, then (but the last level) pad (0,1,0,1) + conv3x3
///            stride 2; mid: ResnetBlock, AttnBlock, ResnetBlock; GN, SiLU, conv_out → 2·z; quant_conv →
///            mean ‖ logvar.
///   Decoder: post_quant_conv; conv_in; mid; per level from the deepest: blocks × ResnetBlock, then (but
///            level 0) nearest 2× + conv3x3; GN, SiLU, conv_out → RGB in about [-1, 1].
/// </summary>
public sealed class SdxlVae
{
    public const string CheckpointPrefix = "first_stage_model.";
    private const int Groups = 32;
    private const float NormEps = 1e-6f;

    private readonly IBackend _b;
    private readonly Coder? _encoder, _decoder;

    /// <summary>Either half may be absent (a decoder-only VAE file); calling the missing half throws.</summary>
    public SdxlVae(WeightStore weights) : this(VaeConfig.Infer(weights), weights) { }

    /// <summary>Builds the autoencoder from any weight source (a loaded store, or a <see cref="LayoutRecorder"/>).</summary>
    public SdxlVae(VaeConfig config, WeightSource vs)
    {
        Config = config;
        Weights = (vs as WeightStore)!; // none when the VAE is only recorded
        _b = vs.Backend;
        if (config.Encoder is { } enc) _encoder = new Coder(vs, enc, config.LatentChannels, isEncoder: true);
        if (config.Decoder is { } dec) _decoder = new Coder(vs, dec, config.LatentChannels, isEncoder: false);
    }

    public VaeConfig Config { get; }
    public WeightStore Weights { get; }
    public int LatentChannels => Config.LatentChannels;
    /// <summary>Width of the decoder's full-resolution blocks (what bounds its activation memory).</summary>
    public int DecoderBaseChannels => Config.Decoder?.Widths[0] ?? 0;

    public static SdxlVae Load(IBackend backend, SafeTensorsFile file, string prefix = CheckpointPrefix) =>
        new(WeightStore.Load(backend, file, prefix));

    /// <summary>Pixels [B, 3, 8h, 8w] from an unscaled latent z [B, 4, h, w] (divide the sampler latent by the family's <see cref="ModelFamily.LatentScale"/> first). Not clamped.</summary>
    public Tensor Decode(Tensor z)
    {
        var dec = _decoder ?? throw new LdException($"{Weights.Source}: the VAE has no decoder");
        if (z.Rank != 4 || z.Dim(1) != LatentChannels) throw new ArgumentException($"VAE latent {Shape.Format(z.Shape)}: expected [B, {LatentChannels}, h, w]");
        using var range = Profiling.Nvtx.Range("vae_decoder");
        return dec.Forward(z);
    }

    /// <summary>
    /// The posterior of pixels [B, 3, H, W] in [-1, 1] (H, W multiples of 8): mean and logvar [B, 4, H/8, W/8],
    /// logvar clamped to [-30, 20] as DiagonalGaussianDistribution does. Unscaled (multiply by
    /// the family's <see cref="ModelFamily.LatentScale"/> for the sampler).
    /// </summary>
    public (Tensor Mean, Tensor LogVar) EncodeMoments(Tensor pixels)
    {
        var enc = _encoder ?? throw new LdException($"{Weights.Source}: the VAE has no encoder");
        if (pixels.Rank != 4 || pixels.Dim(1) != 3) throw new ArgumentException($"VAE pixels {Shape.Format(pixels.Shape)}: expected [B, 3, H, W]");
        using var range = Profiling.Nvtx.Range("vae_encoder");
        using var scope = TensorScope.Open();
        var moments = enc.Forward(pixels);
        int z = LatentChannels;
        return scope.MoveToOuter((_b.Slice(moments, 1, 0, z), _b.Clamp(_b.Slice(moments, 1, z, z), -30f, 20f)));
    }

    /// <summary>
    /// One half of the autoencoder with its 1×1 quant conv of the latent (after the encoder, before the decoder):
    /// conv_in, the sampling path with its mid block, and the output head.
    /// </summary>
    private sealed class Coder
    {
        private readonly IBackend _b;
        private readonly List<Func<Tensor, Tensor>> _steps = new(); // in order, each output freed once the next has used it

        public Coder(WeightSource root, VaeCoderConfig c, int latentChannels, bool isEncoder)
        {
            _b = root.Backend;
            var vs = root.Pp(isEncoder ? "encoder" : "decoder");
            int levels = c.Widths.Length;
            int ch = isEncoder ? c.Widths[0] : c.Widths[^1];
            if (!isEncoder) AddConv(root.Pp("post_quant_conv"), latentChannels, latentChannels, 1);
            AddConv(vs.Pp("conv_in"), c.InChannels, ch, 3);
            if (!isEncoder) AddMid(vs.Pp("mid"), ch);
            for (int i = 0; i < levels; i++)
            {
                // The encoder walks down from level 0; the decoder walks up from the deepest level.
                int level = isEncoder ? i : levels - 1 - i;
                var lv = vs.Pp((isEncoder ? "down." : "up.") + level);
                for (int j = 0; j < c.Blocks[level]; j++)
                {
                    AddResnet(lv.Pp($"block.{j}"), ch, c.Widths[level]);
                    ch = c.Widths[level];
                }
                if (isEncoder && level < levels - 1)
                {
                    var down = new Conv2d(lv.Pp("downsample.conv"), ch, ch, 3, stride: 2, padding: 0);
                    _steps.Add(x => Downsample(x, down));
                }
                if (!isEncoder && level > 0)
                {
                    var up = new Conv2d(lv.Pp("upsample.conv"), ch, ch, 3);
                    _steps.Add(x => TensorScope.Chain(x, _b.Upsample2x, h => up.Forward(_b, h)));
                }
            }
            if (isEncoder) AddMid(vs.Pp("mid"), ch);
            var normOut = new GroupNorm(vs.Pp("norm_out"), ch, Groups, NormEps);
            _steps.Add(x => normOut.Forward(_b, x, silu: true));
            AddConv(vs.Pp("conv_out"), ch, c.OutChannels, 3);
            if (isEncoder) AddConv(root.Pp("quant_conv"), 2 * latentChannels, 2 * latentChannels, 1);
        }

        private void AddConv(WeightSource vs, int inCh, int outCh, int kernel)
        {
            var conv = new Conv2d(vs, inCh, outCh, kernel);
            _steps.Add(x => conv.Forward(_b, x));
        }

        private void AddResnet(WeightSource vs, int inCh, int outCh)
        {
            var rb = new ResnetBlock(vs, ResnetNames.Autoencoder, inCh, outCh, Groups, NormEps);
            _steps.Add(x => rb.Forward(_b, x));
        }

        /// <summary>ResnetBlock, AttnBlock (one head over all H·W tokens with the full width), ResnetBlock.</summary>
        private void AddMid(WeightSource vs, int ch)
        {
            AddResnet(vs.Pp("block_1"), ch, ch);
            var attn = new SpatialSelfAttention(vs.Pp("attn_1"), SpatialAttentionNames.Autoencoder, ch, Groups, NormEps, AttentionHeads.Fixed(1), storedAsConv: true);
            _steps.Add(x => attn.Forward(_b, x));
            AddResnet(vs.Pp("block_2"), ch, ch);
        }

        public Tensor Forward(Tensor x)
        {
            using var scope = TensorScope.Open();
            return scope.MoveToOuter(TensorScope.Chain(x, [.. _steps]));
        }

        /// <summary>
        /// The encoder's downsample pads only right and bottom by one zero (pad (0,1,0,1)), then convolves with
        /// stride 2 and no padding: unlike the UNet's symmetric padding, output row i sees input rows 2i..2i+2.
        /// </summary>
        private Tensor Downsample(Tensor x, Conv2d conv)
        {
            using var scope = TensorScope.Open();
            int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
            var wider = _b.Concat(3, x, _b.FromHost(new float[n * c * h], n, c, h, 1));
            var padded = _b.Concat(2, wider, _b.FromHost(new float[n * c * (w + 1)], n, c, 1, w + 1));
            return scope.MoveToOuter(conv.Forward(_b, padded));
        }
    }
}
