using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.Models.Unet;

/// <summary>
/// sgm SpatialTransformer with linear projections (use_linear_in_transformer; 1×1-conv projections load the same):
/// x_in = x; x = GN(x) (32 groups, eps 1e-6); [B, C, H, W] → [B, HW, C]; proj_in; depth × BasicTransformerBlock;
/// proj_out; back to [B, C, H, W]; return x + x_in.
/// </summary>
internal sealed class SpatialTransformer
{
    private readonly GroupNorm _norm;
    private readonly Linear _projIn, _projOut;

    public SpatialTransformer(WeightSource vs, int channels, int depth, int contextDim, AttentionHeads headRule)
    {
        int heads = headRule.For(channels) ?? throw vs.Error("proj_in.weight", $"width {channels} does not split into the family's attention heads ({headRule})");
        _norm = new GroupNorm(vs.Pp("norm"), channels, 32, 1e-6f);
        _projIn = new Linear(vs.Pp("proj_in"), channels, channels);
        // The feed-forward width is read from the checkpoint where there is one (4·C in SDXL).
        int ff = vs.ShapeOf("transformer_blocks.0.ff.net.2.weight") is [_, int f] ? f : 4 * channels;
        var spec = new TransformerSpec(TransformerNames.Sgm, AttentionNames.Sgm, channels, contextDim, heads, QkvBias: false, Causal: false,
            FeedForwardNames.Sgm, FeedForwardKind.Geglu, ff, 1e-5f);
        Blocks = Enumerable.Range(0, depth).Select(i => new TransformerBlock(vs.Pp($"transformer_blocks.{i}"), spec)).ToArray();
        _projOut = new Linear(vs.Pp("proj_out"), channels, channels);
    }

    public TransformerBlock[] Blocks { get; }

    /// <param name="x">[B, C, H, W]</param>
    /// <param name="context">[B, N, ctx]</param>
    public Tensor Forward(IBackend b, Tensor x, Tensor context)
    {
        using var scope = TensorScope.Open();
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        var tokens = b.Reshape(b.Permute(_norm.Forward(b, x), 0, 2, 3, 1), n, h * w, c);
        var blocks = Blocks.Select(block => (Func<Tensor, Tensor>)(t => block.Forward(b, t, context)));
        var output = TensorScope.Chain(tokens, [t => _projIn.Forward(b, t), .. blocks, t => _projOut.Forward(b, t)]);
        var nchw = b.Permute(b.Reshape(output, n, h, w, c), 0, 3, 1, 2);
        return scope.MoveToOuter(b.Add(nchw, x));
    }
}
