using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;

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
    private readonly Conv2d _convIn, _latentIn, _convOut;
    private readonly GroupNorm _normOut;
    private readonly Block[] _down, _up;
    private readonly ResnetBlock _mid1, _mid2;
    private readonly SpatialSelfAttention _midAttn;

    /// <summary>
    /// A down or up block: its resnets, an attention after each when present, and its resampling conv. A down block
    /// stores a skip after each layer and after its downsampler; an up block takes one before each resnet.
    /// </summary>
    private sealed record Block(ResnetBlock[] Resnets, SpatialSelfAttention[]? Attentions, Conv2d? Resample, bool Up)
    {
        public Tensor Forward(IBackend b, Tensor h, Stack<Tensor> skips)
        {
            for (int j = 0; j < Resnets.Length; j++)
            {
                if (Up)
                {
                    var skip = skips.Pop();
                    h = Replace(h, b.Concat(1, h, skip), skips);
                    skip.Dispose();
                }
                h = Replace(h, Resnets[j].Forward(b, h), skips);
                if (Attentions is not null) h = Replace(h, Attentions[j].Forward(b, h), skips);
                if (!Up) skips.Push(h);
            }
            if (Resample is null) return h;
            if (Up) h = Replace(h, b.Upsample2x(h), skips);
            h = Replace(h, Resample.Forward(b, h), skips);
            if (!Up) skips.Push(h);
            return h;
        }
    }

    public TransparentDecoderConfig Config { get; }

    /// <summary>Loads the decoder from a file in the released key layout (vae_transparent_decoder.safetensors).</summary>
    public static TransparentDecoder Load(IBackend backend, SafeTensorsFile file) => new(WeightStore.Load(backend, file, ""));

    public TransparentDecoder(WeightStore w) : this(TransparentDecoderConfig.Infer(w), w) { }

    /// <summary>Builds the decoder from any weight source (a loaded store, or a <see cref="LayoutRecorder"/>).</summary>
    public TransparentDecoder(TransparentDecoderConfig cfg, WeightSource vs)
    {
        _b = vs.Backend;
        Config = cfg;
        _convIn = new Conv2d(vs.Pp("conv_in"), cfg.PixelChannels, cfg.BaseChannels, 3);

        // Follow the channel widths through the graph exactly as Forward does, so every tensor is checked against
        // the width the data will have when it reaches it.
        var skips = new Stack<int>([cfg.BaseChannels]);
        int ch = cfg.BaseChannels;
        Conv2d? latentIn = null;
        _down = new Block[cfg.Down.Length];
        for (int i = 0; i < _down.Length; i++)
        {
            if (i == cfg.LatentBlock) latentIn = new Conv2d(vs.Pp("latent_conv_in"), cfg.LatentChannels, ch, 1);
            _down[i] = BuildBlock(vs.Pp($"down_blocks.{i}"), cfg.Down[i], up: false);
        }
        _latentIn = latentIn ?? throw vs.Error("latent_conv_in.weight",
            $"the down path never reaches 1/{TransparentDecoderConfig.LatentFactor} resolution, so there is nowhere to add the latent");

        var mid = vs.Pp("mid_block");
        _mid1 = Resnet(mid.Pp("resnets.0"), ch, ch);
        _midAttn = Attention(mid.Pp("attentions.0"), ch);
        _mid2 = Resnet(mid.Pp("resnets.1"), ch, ch);

        _up = new Block[cfg.Up.Length];
        for (int i = 0; i < _up.Length; i++) _up[i] = BuildBlock(vs.Pp($"up_blocks.{i}"), cfg.Up[i], up: true);
        if (skips.Count != 0)
            throw new ModelFormatException(vs.Source, null, $"{skips.Count} skip connections are never consumed by the up blocks");
        _normOut = new GroupNorm(vs.Pp("conv_norm_out"), ch, TransparentDecoderConfig.Groups, TransparentDecoderConfig.Eps);
        _convOut = new Conv2d(vs.Pp("conv_out"), ch, cfg.OutChannels, 3);

        Block BuildBlock(WeightSource p, TransparentDecoderBlock spec, bool up)
        {
            var res = new ResnetBlock[spec.Layers];
            var attn = spec.HasAttention ? new SpatialSelfAttention[spec.Layers] : null;
            for (int j = 0; j < spec.Layers; j++)
            {
                if (up && skips.Count == 0) throw p.Error($"resnets.{j}.conv1.weight", "more up-block resnets than stored skip connections");
                res[j] = Resnet(p.Pp($"resnets.{j}"), up ? ch + skips.Pop() : ch, spec.OutChannels);
                ch = spec.OutChannels;
                if (attn is not null) attn[j] = Attention(p.Pp($"attentions.{j}"), ch);
                if (!up) skips.Push(ch);
            }
            if (!spec.Resamples) return new Block(res, attn, null, up);
            if (!up) skips.Push(ch);
            return new Block(res, attn, new Conv2d(p.Pp(up ? "upsamplers.0.conv" : "downsamplers.0.conv"), ch, ch, 3, stride: up ? 1 : 2), up);
        }
    }

    private static ResnetBlock Resnet(WeightSource vs, int inCh, int outCh) =>
        new(vs, ResnetNames.Diffusers, inCh, outCh, TransparentDecoderConfig.Groups, TransparentDecoderConfig.Eps);

    private static SpatialSelfAttention Attention(WeightSource vs, int ch) =>
        new(vs, SpatialAttentionNames.Diffusers, ch, TransparentDecoderConfig.Groups, TransparentDecoderConfig.Eps, TransparentDecoderConfig.Heads, storedAsConv: false);

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
        using var scope = TensorScope.Open();
        var latentFeatures = _latentIn.Forward(_b, latent);
        var h = _convIn.Forward(_b, pixel);
        var skips = new Stack<Tensor>([h]);
        for (int i = 0; i < _down.Length; i++)
        {
            if (i == Config.LatentBlock) h = _b.Add(h, latentFeatures);
            h = _down[i].Forward(_b, h, skips);
        }

        h = Replace(h, _mid1.Forward(_b, h), skips);
        h = Replace(h, _midAttn.Forward(_b, h), skips);
        h = Replace(h, _mid2.Forward(_b, h), skips);

        foreach (var blk in _up) h = blk.Forward(_b, h, skips);
        return scope.MoveToOuter(_convOut.Forward(_b, _normOut.Forward(_b, h, silu: true)));
    }

    /// <summary>Returns <paramref name="next"/>, disposing <paramref name="old"/> unless it is still held as a skip.</summary>
    private static Tensor Replace(Tensor old, Tensor next, Stack<Tensor> skips)
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
