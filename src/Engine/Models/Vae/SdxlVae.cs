using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

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
    internal const int Groups = 32;
    internal const float NormEps = 1e-6f;

    private readonly IBackend _b;
    private readonly Coder? _encoder, _decoder;
    private readonly Tensor? _quantW, _quantB, _postQuantW, _postQuantB;

    /// <summary>Either half may be absent (a decoder-only VAE file); calling the missing half throws.</summary>
    public SdxlVae(WeightStore weights)
    {
        Weights = weights;
        _b = weights.Backend;
        var w = weights;
        if (w.Contains("encoder.conv_in.weight"))
        {
            _encoder = Coder.Encoder(w);
            int moments = _encoder.OutChannels;
            _quantW = w.Get("quant_conv.weight", moments, moments, 1, 1);
            _quantB = w.Get("quant_conv.bias", moments);
            LatentChannels = moments / 2;
        }
        if (w.Contains("decoder.conv_in.weight"))
        {
            int z = w.DimsOf("decoder.conv_in.weight")[1];
            _postQuantW = w.Get("post_quant_conv.weight", z, z, 1, 1);
            _postQuantB = w.Get("post_quant_conv.bias", z);
            _decoder = Coder.Decoder(w, z);
            LatentChannels = z;
        }
        if (_encoder is null && _decoder is null)
            throw new ModelFormatException(w.Source, w.Prefix + "decoder.conv_in.weight", "missing: no VAE encoder or decoder");
    }

    public WeightStore Weights { get; }
    public int LatentChannels { get; }
    /// <summary>Width of the decoder's full-resolution blocks (what bounds its activation memory).</summary>
    public int DecoderBaseChannels => Weights.DimsOf("decoder.norm_out.weight")[0];

    public static SdxlVae Load(IBackend backend, SafeTensorsFile file, string prefix = CheckpointPrefix) =>
        new(WeightStore.Load(backend, file, prefix));

    /// <summary>Pixels [B, 3, 8h, 8w] from an unscaled latent z [B, 4, h, w] (divide the sampler latent by the family's <see cref="ModelFamily.LatentScale"/> first). Not clamped.</summary>
    public Tensor Decode(Tensor z)
    {
        var dec = _decoder ?? throw new LdException($"{Weights.Source}: the VAE has no decoder");
        if (z.Rank != 4 || z.Dim(1) != LatentChannels) throw new ArgumentException($"VAE latent {Shape.Format(z.Shape)}: expected [B, {LatentChannels}, h, w]");
        using var range = Profiling.Nvtx.Range("vae_decoder");
        using var scope = TensorScope.Open();
        return scope.MoveToOuter(dec.Forward(_b, _b.Conv2d(z, _postQuantW!, _postQuantB, 1, 0)));
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
        var moments = _b.Conv2d(enc.Forward(_b, pixels), _quantW!, _quantB, 1, 0);
        int z = LatentChannels;
        return scope.MoveToOuter((_b.Slice(moments, 1, 0, z), _b.Clamp(_b.Slice(moments, 1, z, z), -30f, 20f)));
    }

    /// <summary>One half of the autoencoder: conv_in, the sampling path with its mid block, and the output head.</summary>
    private sealed class Coder
    {
        private readonly Tensor _convInW, _convInB, _normOutW, _normOutB, _convOutW, _convOutB;
        private readonly List<object> _path = new();   // VaeResnetBlock, VaeAttnBlock or Resample, in order

        private sealed record Resample(Tensor W, Tensor B, bool Down);

        private Coder(bool isEncoder, WeightStore w, string p, int inChannels)
        {
            int ch = w.DimsOf(p + "conv_in.weight")[0];
            _convInW = w.Get(p + "conv_in.weight", ch, inChannels, 3, 3);
            _convInB = w.Get(p + "conv_in.bias", ch);
            int levels = 0;
            string LevelKey(int l) => isEncoder ? $"{p}down.{l}." : $"{p}up.{l}.";
            while (w.Contains(LevelKey(levels) + "block.0.conv1.weight")) levels++;
            if (levels == 0) throw new ModelFormatException(w.Source, w.Prefix + LevelKey(0) + "block.0.conv1.weight", "missing");

            if (!isEncoder) ch = AddMid(w, p, ch);
            for (int i = 0; i < levels; i++)
            {
                // The encoder walks down from level 0; the decoder walks up from the deepest level.
                int level = isEncoder ? i : levels - 1 - i;
                string lp = LevelKey(level);
                for (int j = 0; w.Contains($"{lp}block.{j}.conv1.weight"); j++)
                {
                    var rb = new VaeResnetBlock(w, $"{lp}block.{j}.", ch);
                    _path.Add(rb);
                    ch = rb.OutChannels;
                }
                string rp = lp + (isEncoder ? "downsample.conv." : "upsample.conv.");
                if (w.Contains(rp + "weight"))
                    _path.Add(new Resample(w.Get(rp + "weight", ch, ch, 3, 3), w.Get(rp + "bias", ch), isEncoder));
            }
            if (isEncoder) ch = AddMid(w, p, ch);

            int outCh = w.DimsOf(p + "conv_out.weight")[0];
            _normOutW = w.Get(p + "norm_out.weight", ch);
            _normOutB = w.Get(p + "norm_out.bias", ch);
            _convOutW = w.Get(p + "conv_out.weight", outCh, ch, 3, 3);
            _convOutB = w.Get(p + "conv_out.bias", outCh);
            OutChannels = outCh;
        }

        public int OutChannels { get; }

        public static Coder Encoder(WeightStore w) => new(true, w, "encoder.", 3);
        public static Coder Decoder(WeightStore w, int latentChannels) => new(false, w, "decoder.", latentChannels);

        private int AddMid(WeightStore w, string p, int ch)
        {
            var b1 = new VaeResnetBlock(w, p + "mid.block_1.", ch);
            _path.Add(b1);
            _path.Add(new VaeAttnBlock(w, p + "mid.attn_1.", b1.OutChannels));
            var b2 = new VaeResnetBlock(w, p + "mid.block_2.", b1.OutChannels);
            _path.Add(b2);
            return b2.OutChannels;
        }

        public Tensor Forward(IBackend b, Tensor x)
        {
            using var scope = TensorScope.Open();
            var h = b.Conv2d(x, _convInW, _convInB, 1, 1);
            foreach (var step in _path)
            {
                var next = step switch
                {
                    VaeResnetBlock rb => rb.Forward(b, h),
                    VaeAttnBlock ab => ab.Forward(b, h),
                    Resample { Down: true } r => Downsample(b, h, r),
                    Resample r => Upsample(b, h, r),
                    _ => throw new InvalidOperationException(),
                };
                h.Dispose();
                h = next;
            }
            return scope.MoveToOuter(b.Conv2d(b.GroupNorm(h, Groups, _normOutW, _normOutB, NormEps, silu: true), _convOutW, _convOutB, 1, 1));
        }

        /// <summary>
        /// The encoder's downsample pads only right and bottom by one zero (pad (0,1,0,1)), then convolves with
        /// stride 2 and no padding: unlike the UNet's symmetric padding, output row i sees input rows 2i..2i+2.
        /// </summary>
        private static Tensor Downsample(IBackend b, Tensor x, Resample r)
        {
            using var scope = TensorScope.Open();
            int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
            var wider = b.Concat(3, x, b.FromHost(new float[n * c * h], n, c, h, 1));
            var padded = b.Concat(2, wider, b.FromHost(new float[n * c * (w + 1)], n, c, 1, w + 1));
            return scope.MoveToOuter(b.Conv2d(padded, r.W, r.B, 2, 0));
        }

        private static Tensor Upsample(IBackend b, Tensor x, Resample r)
        {
            using var scope = TensorScope.Open();
            return scope.MoveToOuter(b.Conv2d(b.Upsample2x(x), r.W, r.B, 1, 1));
        }
    }
}
