using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.LayerDiffusion;

/// <summary>
/// LayerDiffusion's transparent VAE decoder: UNet1024(pixel, latent) → [alpha, R, G, B].
/// The pixel input is the ordinary VAE decode in [0, 1]; the latent is the unscaled VAE latent (sampler latent /
/// scaling factor). conv_in → down blocks (the 1×1-projected latent is added before the first block at 1/8
/// resolution, after that resolution's skips were stored) → mid block (resnet, attention, resnet) → up blocks
/// (each resnet takes [h, skip popped from the end] along channels) → GroupNorm, SiLU, conv_out.
/// </summary>
public sealed partial class TransparentDecoder
{
    private readonly IBackend _b;
    private readonly Conv _convIn, _latentIn, _convOut;
    private readonly Norm _normOut;
    private readonly Block[] _down, _up;
    private readonly Resnet _mid1, _mid2;
    private readonly SpatialAttention _midAttn;

    public TransparentDecoderConfig Config { get; }

    /// <summary>Loads the decoder from a file in the released key layout (vae_transparent_decoder.safetensors).</summary>
    public static TransparentDecoder Load(IBackend backend, SafeTensorsFile file) => new(WeightStore.Load(backend, file, ""));

    public TransparentDecoder(WeightStore w)
    {
        _b = w.Backend;
        var cfg = Config = TransparentDecoderConfig.Infer(w);
        _convIn = Conv.Load(w, "conv_in", cfg.BaseChannels, cfg.PixelChannels, 3);

        // Follow the channel widths through the graph exactly as Forward does, so every tensor is checked against
        // the width the data will have when it reaches it.
        var skips = new Stack<int>();
        skips.Push(cfg.BaseChannels);
        int ch = cfg.BaseChannels;
        _down = new Block[cfg.Down.Length];
        for (int i = 0; i < cfg.Down.Length; i++)
        {
            var spec = cfg.Down[i];
            string p = $"down_blocks.{i}";
            if (i == cfg.LatentBlock) _latentIn = Conv.Load(w, "latent_conv_in", ch, cfg.LatentChannels, 1);
            var res = new Resnet[spec.Layers];
            var attn = spec.HasAttention ? new SpatialAttention[spec.Layers] : null;
            for (int j = 0; j < spec.Layers; j++)
            {
                res[j] = Resnet.Load(w, $"{p}.resnets.{j}", ch, spec.OutChannels);
                ch = spec.OutChannels;
                if (attn is not null) attn[j] = SpatialAttention.Load(w, $"{p}.attentions.{j}", ch);
                skips.Push(ch);
            }
            Conv? down = null;
            if (spec.Resamples)
            {
                down = Conv.Load(w, $"{p}.downsamplers.0.conv", ch, ch, 3, stride: 2);
                skips.Push(ch);
            }
            _down[i] = new Block(res, attn, down);
        }
        if (_latentIn is null) throw new ModelFormatException(w.Source, "latent_conv_in.weight", "no down block runs at 1/8 resolution");

        _mid1 = Resnet.Load(w, "mid_block.resnets.0", ch, ch);
        _midAttn = SpatialAttention.Load(w, "mid_block.attentions.0", ch);
        _mid2 = Resnet.Load(w, "mid_block.resnets.1", ch, ch);

        _up = new Block[cfg.Up.Length];
        for (int i = 0; i < cfg.Up.Length; i++)
        {
            var spec = cfg.Up[i];
            string p = $"up_blocks.{i}";
            var res = new Resnet[spec.Layers];
            var attn = spec.HasAttention ? new SpatialAttention[spec.Layers] : null;
            for (int j = 0; j < spec.Layers; j++)
            {
                if (skips.Count == 0)
                    throw new ModelFormatException(w.Source, $"{p}.resnets.{j}.conv1.weight", "more up-block resnets than stored skip connections");
                res[j] = Resnet.Load(w, $"{p}.resnets.{j}", ch + skips.Pop(), spec.OutChannels);
                ch = spec.OutChannels;
                if (attn is not null) attn[j] = SpatialAttention.Load(w, $"{p}.attentions.{j}", ch);
            }
            var up = spec.Resamples ? Conv.Load(w, $"{p}.upsamplers.0.conv", ch, ch, 3) : null;
            _up[i] = new Block(res, attn, up);
        }
        if (skips.Count != 0)
            throw new ModelFormatException(w.Source, null, $"{skips.Count} skip connections are never consumed by the up blocks");
        _normOut = Norm.Load(w, "conv_norm_out", ch);
        _convOut = Conv.Load(w, "conv_out", cfg.OutChannels, ch, 3);
    }

    /// <summary>
    /// One pass: pixel [B, 3, H, W] in [0, 1] and the unscaled latent [B, 4, H/8, W/8] → [B, 4, H, W] (alpha, then
    /// straight RGB), not clipped. H and W must be multiples of 8; sides that are not multiples of
    /// <see cref="TransparentDecoderConfig.SizeMultiple"/> are mirror-padded for the network and cropped back
    /// (see <see cref="PadForNetwork"/>).
    /// </summary>
    public Tensor Forward(Tensor pixel, Tensor latent)
    {
        CheckInputs(pixel, latent);
        var pad = Padding.For(pixel.Dim(2), pixel.Dim(3), Config.SizeMultiple);
        if (pad.IsNone) return Network(pixel, latent);
        using var scope = TensorScope.Open();
        var (pp, pl) = PadForNetwork(pixel, latent, pad);
        return scope.MoveToOuter(CropFromNetwork(Network(pp, pl), pad));
    }

    /// <summary>The UNet itself; sides must already be multiples of <see cref="TransparentDecoderConfig.SizeMultiple"/>.</summary>
    private Tensor Network(Tensor pixel, Tensor latent)
    {
        using var range = Profiling.Nvtx.Range("transparent_decoder");
        var b = _b;
        using var scope = TensorScope.Open();
        var latentFeatures = _latentIn.Run(b, latent);
        var skips = new List<Tensor>();
        var h = _convIn.Run(b, pixel);
        skips.Add(h);
        for (int i = 0; i < _down.Length; i++)
        {
            var blk = _down[i];
            if (i == Config.LatentBlock) h = b.Add(h, latentFeatures);
            for (int j = 0; j < blk.Resnets.Length; j++)
            {
                h = Replace(h, blk.Resnets[j].Run(b, h), skips);
                if (blk.Attentions is not null) h = Replace(h, blk.Attentions[j].Run(b, h), skips);
                skips.Add(h);
            }
            if (blk.Resample is not null)
            {
                h = blk.Resample.Run(b, h);
                skips.Add(h);
            }
        }

        h = Replace(h, _mid1.Run(b, h), skips);
        h = Replace(h, _midAttn.Run(b, h), skips);
        h = Replace(h, _mid2.Run(b, h), skips);

        foreach (var blk in _up)
        {
            for (int j = 0; j < blk.Resnets.Length; j++)
            {
                var skip = skips[^1];
                skips.RemoveAt(skips.Count - 1);
                h = Replace(h, b.Concat(1, h, skip), skips);
                skip.Dispose();
                h = Replace(h, blk.Resnets[j].Run(b, h), skips);
                if (blk.Attentions is not null) h = Replace(h, blk.Attentions[j].Run(b, h), skips);
            }
            if (blk.Resample is not null)
            {
                h = Replace(h, b.Upsample2x(h), skips);
                h = Replace(h, blk.Resample.Run(b, h), skips);
            }
        }
        return scope.MoveToOuter(_convOut.Run(b, _normOut.Run(b, h, silu: true)));
    }

    /// <summary>Returns <paramref name="next"/>, disposing <paramref name="old"/> unless it is still held as a skip.</summary>
    private static Tensor Replace(Tensor old, Tensor next, List<Tensor> skips)
    {
        if (!ReferenceEquals(old, next) && !skips.Contains(old)) old.Dispose();
        return next;
    }

    private void CheckInputs(Tensor pixel, Tensor latent)
    {
        if (pixel.Rank != 4 || pixel.Dim(1) != Config.PixelChannels)
            throw new ArgumentException($"transparent decoder: pixel must be [B, {Config.PixelChannels}, H, W], got {Shape.Format(pixel.Shape)}");
        int n = pixel.Dim(0), h = pixel.Dim(2), w = pixel.Dim(3);
        const int f = TransparentDecoderConfig.LatentFactor;
        if (h % f != 0 || w % f != 0)
            throw new ArgumentException($"transparent decoder: image size {w}x{h} is not a multiple of {f}");
        if (latent.Rank != 4 || latent.Dim(0) != n || latent.Dim(1) != Config.LatentChannels || latent.Dim(2) != h / f || latent.Dim(3) != w / f)
            throw new ArgumentException($"transparent decoder: latent must be [{n}, {Config.LatentChannels}, {h / f}, {w / f}] for pixel {Shape.Format(pixel.Shape)}, got {Shape.Format(latent.Shape)}");
    }
}
