using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.Models.Unet;

/// <summary>
/// The SDXL UNet (sgm openaimodel.UNetModel, ldm key layout) for any depths and widths read by
/// <see cref="UnetConfig"/>:
///
///   emb = time_embed(E(t)) + label_emb(y)
///   h = input_blocks.0 (conv3x3);                          push h
///   per level l: NumResBlocks × (ResBlock [+ SpatialTransformer]);  push h after each
///                Downsample (conv3x3 stride 2) between levels;       push h
///   middle_block: ResBlock, SpatialTransformer, ResBlock
///   per output block: h = cat([h, pop()]); ResBlock [+ SpatialTransformer] [+ Upsample to the next skip's size]
///   out: GN, SiLU, conv3x3 → ε
///
/// The input conv may be wider than the config's InChannels after a LayerDiffusion layer patch (8 or 12
/// channels); the caller then passes cat([x, c1(, c2)]) along channels.
/// </summary>
public sealed class SdxlUnet
{
    public const string CheckpointPrefix = "model.diffusion_model.";
    private const int Groups = 32;

    private readonly IBackend _b;
    private readonly Linear _time0, _time2;
    private readonly Linear? _label0, _label2;
    private readonly Conv2d _convIn, _outConv;
    private readonly GroupNorm _outNorm;
    // One stage per numbered input and output block (the middle block is one stage): its parts in order, each
    // part's output freed once the next has used it (TensorScope.Chain).
    private readonly List<Part[]> _input = new(), _output = new();
    private readonly Part[] _middle;
    private readonly List<SpatialTransformer> _transformers = new(); // in forward order

    /// <summary>A ResBlock, a transformer, a down or an up sampling conv.</summary>
    private delegate Tensor Part(Tensor h, Pass pass);

    /// <summary>What the parts of one forward pass read: SiLU(emb), the context, and the skip the next output block
    /// concatenates (the size an upsample must reach).</summary>
    private sealed record Pass(Tensor EmbSilu, Tensor Context, Tensor? NextSkip);

    /// <summary>
    /// Builds the UNet from any weight source: a loaded store, or a <see cref="LayoutRecorder"/> that writes down the
    /// checkpoint layout this configuration loads from.
    /// </summary>
    public SdxlUnet(UnetConfig config, WeightSource vs)
    {
        Config = config;
        Weights = (vs as WeightStore)!; // none when the UNet is only recorded
        _b = vs.Backend;
        int mc = config.ModelChannels, temb = config.TimeEmbedDim;

        _time0 = new Linear(vs.Pp("time_embed.0"), mc, temb);
        _time2 = new Linear(vs.Pp("time_embed.2"), temb, temb);
        if (config.AdmInChannels > 0)
        {
            _label0 = new Linear(vs.Pp("label_emb.0.0"), config.AdmInChannels, temb);
            _label2 = new Linear(vs.Pp("label_emb.0.2"), temb, temb);
        }

        // A layer patch widens the input conv; everything else about it is fixed by the config.
        InChannels = vs.ShapeOf("input_blocks.0.0.weight") is [_, int ic, _, _] ? ic : config.InChannels;
        _convIn = new Conv2d(vs.Pp("input_blocks.0.0"), InChannels, mc, 3);

        // Input side: track every pushed tensor's channel count, the output side pops them in reverse.
        var skips = new Stack<int>();
        skips.Push(mc);
        int ch = mc, block = 1, res = 0;
        for (int level = 0; level < config.ChannelMult.Length; level++)
        {
            for (int r = 0; r < config.NumResBlocks; r++, block++, res++)
            {
                int outCh = mc * config.ChannelMult[level];
                var p = vs.Pp($"input_blocks.{block}");
                _input.Add([Resnet(p.Pp("0"), ch, outCh), .. Transformer(p.Pp("1"), outCh, config.InputDepths[res])]);
                ch = outCh;
                skips.Push(ch);
            }
            if (level < config.ChannelMult.Length - 1)
            {
                var down = new Conv2d(vs.Pp($"input_blocks.{block}.0.op"), ch, ch, 3, stride: 2);
                _input.Add([(h, _) => down.Forward(_b, h)]);
                skips.Push(ch);
                block++;
            }
        }

        // ResBlock, SpatialTransformer (when the middle has transformer blocks), ResBlock.
        var mid = vs.Pp("middle_block");
        _middle = [Resnet(mid.Pp("0"), ch, ch), .. Transformer(mid.Pp("1"), ch, config.MiddleDepth), Resnet(mid.Pp(config.MiddleDepth > 0 ? "2" : "1"), ch, ch)];

        int perLevel = config.NumResBlocks + 1;
        for (int i = 0; i < config.OutputDepths.Length; i++)
        {
            int level = config.ChannelMult.Length - 1 - i / perLevel;
            int outCh = mc * config.ChannelMult[level];
            var p = vs.Pp($"output_blocks.{i}");
            Part[] stage = [Resnet(p.Pp("0"), ch + skips.Pop(), outCh), .. Transformer(p.Pp("1"), outCh, config.OutputDepths[i])];
            if (level > 0 && i % perLevel == perLevel - 1)
            {
                var up = new Conv2d(p.Pp($"{stage.Length}.conv"), outCh, outCh, 3);
                stage = [.. stage, (h, pass) => UpsampleTo(h, pass.NextSkip!.Dim(2), pass.NextSkip.Dim(3)), (h, _) => up.Forward(_b, h)];
            }
            _output.Add(stage);
            ch = outCh;
        }

        _outNorm = new GroupNorm(vs.Pp("out.0"), ch, Groups, 1e-5f);
        _outConv = new Conv2d(vs.Pp("out.2"), ch, config.OutChannels, 3);
    }

    private Part Resnet(WeightSource vs, int inCh, int outCh)
    {
        var rb = new ResnetBlock(vs, ResnetNames.Ldm, inCh, outCh, Groups, 1e-5f, Config.TimeEmbedDim);
        return (h, pass) => rb.Forward(_b, h, pass.EmbSilu);
    }

    /// <summary>The block's transformer as a part; none when it has no transformer blocks.</summary>
    private Part[] Transformer(WeightSource vs, int channels, int depth)
    {
        if (depth == 0) return [];
        var st = new SpatialTransformer(vs, channels, depth, vs.ShapeOf("transformer_blocks.0.attn2.to_k.weight") is [_, int c] ? c : Config.ContextDim, Config.Heads);
        _transformers.Add(st);
        return [(h, pass) => st.Forward(_b, h, pass.Context)];
    }

    /// <summary>Every transformer block in forward order: input blocks, middle, output blocks.</summary>
    public IEnumerable<TransformerBlock> TransformerBlocks => _transformers.SelectMany(t => t.Blocks);

    /// <summary>Every attention module in forward order (attn1 before attn2): <see cref="AttentionCall.Index"/> indexes this.</summary>
    public IReadOnlyList<Attention> AttentionModules =>
        TransformerBlocks.SelectMany(t => t.CrossAttention is null ? new[] { t.SelfAttention } : [t.SelfAttention, t.CrossAttention]).ToArray();

    /// <summary>
    /// Replaces every attention module's computation (SD1.5's attention sharing; see <see cref="IAttentionHook"/>);
    /// null, the default, runs the modules themselves.
    /// </summary>
    public IAttentionHook? AttentionHook
    {
        get;
        set
        {
            field = value;
            int index = 0;
            foreach (var block in TransformerBlocks) index = block.AttachHook(value, index);
        }
    }

    public UnetConfig Config { get; }
    public WeightStore Weights { get; }
    /// <summary>Channels of the input conv: the config's, or more after a concat-conditioned layer patch.</summary>
    public int InChannels { get; }

    /// <summary>
    /// Reads the configuration from the checkpoint's shapes (heads from its family, detected from its keys when not
    /// given) and loads the UNet's weights.
    /// </summary>
    public static SdxlUnet Load(IBackend backend, SafeTensorsFile file, ModelFamily? family = null)
    {
        family ??= ModelFamily.Detect(file);
        return new(UnetConfig.Infer(file, family.UnetPrefix, family.UnetHeads), WeightStore.Load(backend, file, family.UnetPrefix));
    }

    /// <param name="x">[B, InChannels, H, W] (the noisy latent, with any concat latents appended)</param>
    /// <param name="timesteps">one (possibly fractional) timestep per row</param>
    /// <param name="context">[B, N, ContextDim], N any multiple of 77</param>
    /// <param name="y">[B, AdmInChannels]</param>
    /// <returns>ε [B, OutChannels, H, W]</returns>
    public Tensor Forward(Tensor x, float[] timesteps, Tensor context, Tensor? y)
    {
        CheckInputs(x, timesteps, context, y);
        using var range = Profiling.Nvtx.Range("unet");
        using var scope = TensorScope.Open();
        var pass = new Pass(_b.Silu(Embedding(timesteps, y)), context, null);

        // Every input stage's output is held as a skip; each output block frees its input and its skip once they
        // are concatenated, and the concatenation once it has run.
        var skips = new Stack<Tensor>();
        skips.Push(_convIn.Forward(_b, x));
        foreach (var s in _input) skips.Push(Run(s, skips.Peek(), pass));
        var h = Run(_middle, skips.Peek(), pass);
        foreach (var s in _output)
        {
            var skip = skips.Pop();
            var cat = _b.Concat(1, h, skip);
            h.Dispose();
            skip.Dispose();
            h = Run(s, cat, pass with { NextSkip = skips.Count > 0 ? skips.Peek() : null });
            cat.Dispose();
        }
        return scope.MoveToOuter(_outConv.Forward(_b, _outNorm.Forward(_b, h, silu: true)));
    }

    /// <summary>Runs a stage's parts in order, freeing each part's output once the next has used it (never the input).</summary>
    private static Tensor Run(Part[] stage, Tensor x, Pass pass) => TensorScope.Chain(x, stage.Select(part => (Func<Tensor, Tensor>)(h => part(h, pass))).ToArray());

    /// <summary>
    /// Nearest-neighbour resize to (th, tw) for th ∈ {2h−1, 2h}: torch's nearest index floor(i·h/th) equals
    /// floor(i/2) for both, so a 2× upsample cropped to the skip's size matches Forge's interpolate(size=...).
    /// </summary>
    private Tensor UpsampleTo(Tensor x, int th, int tw)
    {
        using var scope = TensorScope.Open();
        var up = _b.Upsample2x(x);
        if (up.Dim(2) == th && up.Dim(3) == tw) return scope.MoveToOuter(up);
        if (th > up.Dim(2) || tw > up.Dim(3) || th < up.Dim(2) - 1 || tw < up.Dim(3) - 1)
            throw new ArgumentException($"cannot upsample {Shape.Format(x.Shape)} to {th}×{tw}");
        return scope.MoveToOuter(_b.Slice(_b.Slice(up, 2, 0, th), 3, 0, tw));
    }

    /// <summary>emb = time_embed(E(t)) + label_emb(y), each an MLP Linear · SiLU · Linear.</summary>
    private Tensor Embedding(float[] timesteps, Tensor? y)
    {
        using var scope = TensorScope.Open();
        var sinusoid = SinusoidalEmbedding.Of(timesteps, Config.ModelChannels);
        var emb = Mlp(_b.FromHost(sinusoid, timesteps.Length, Config.ModelChannels), _time0, _time2);
        if (_label0 is not null && y is not null) emb = _b.Add(emb, Mlp(y, _label0, _label2!));
        return scope.MoveToOuter(emb);
    }

    private Tensor Mlp(Tensor x, Linear first, Linear second) => second.Forward(_b, _b.Silu(first.Forward(_b, x)));

    private void CheckInputs(Tensor x, float[] timesteps, Tensor context, Tensor? y)
    {
        int batch = x.Dim(0);
        if (x.Rank != 4 || x.Dim(1) != InChannels)
            throw new ArgumentException($"UNet input {Shape.Format(x.Shape)}: expected [B, {InChannels}, H, W]");
        if (timesteps.Length != batch)
            throw new ArgumentException($"UNet: {timesteps.Length} timesteps for a batch of {batch}");
        if (context.Rank != 3 || context.Dim(0) != batch || context.Dim(2) != Config.ContextDim)
            throw new ArgumentException($"UNet context {Shape.Format(context.Shape)}: expected [{batch}, N, {Config.ContextDim}]");
        if (Config.AdmInChannels > 0 && (y is null || y.Rank != 2 || y.Dim(0) != batch || y.Dim(1) != Config.AdmInChannels))
            throw new ArgumentException($"UNet y {(y is null ? "missing" : Shape.Format(y.Shape))}: expected [{batch}, {Config.AdmInChannels}]");
    }
}
