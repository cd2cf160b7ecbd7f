namespace LayerDiffusion.Native.Backends.Ledger;

/// <summary>
/// The op classes of the cost ledger (bench JSON's <c>params.op_class</c>): every <see cref="IBackend"/> op belongs
/// to exactly one, by what the op is, whatever backend runs it (<see cref="OpCosts"/> assigns them).
/// </summary>
public static class OpClass
{
    /// <summary>Attention whose keys come from the queries' own tokens (UNet attn1, VAE, decoder, CLIP).</summary>
    public const string AttentionSelf = "attention_self";
    /// <summary>Attention over other tokens (the UNet's attn2 over the 77 text tokens).</summary>
    public const string AttentionCross = "attention_cross";
    /// <summary>Conv2d (bias included).</summary>
    public const string Conv = "conv";
    /// <summary>Linear and MatMul (bias included).</summary>
    public const string Linear = "linear";
    /// <summary>A product whose residual add is its epilogue: LinearAdd, Conv2dAdd.</summary>
    public const string GemmEpilogue = "gemm_epilogue";
    /// <summary>GroupNorm (with or without SiLU), LayerNorm, Softmax.</summary>
    public const string Norm = "norm";
    /// <summary>Activations, broadcast arithmetic, affine, clamp, the median of 8.</summary>
    public const string Elementwise = "elementwise";
    /// <summary>Data rearranged on the device: concat, slice, permute, upsample, flip/rotate, reshape (a view).</summary>
    public const string Layout = "layout";
    /// <summary>Other fused capabilities: GroupNormAdd, UnaugmentMedian8, MergeLora, MergeDiff.</summary>
    public const string Fused = "fused";
    /// <summary>Data in and out of the backend: FromHost, ToHost, Import, LoadWeight.</summary>
    public const string Copy = "copy";
    /// <summary>Philox normal draws (sampling noise).</summary>
    public const string Random = "random";

    /// <summary>Every class, in the order tables list them.</summary>
    public static IReadOnlyList<string> All { get; } =
        [AttentionSelf, AttentionCross, Conv, Linear, GemmEpilogue, Norm, Elementwise, Layout, Fused, Copy, Random];

    /// <summary>The position of a class in <see cref="All"/> (unknown names last).</summary>
    public static int Order(string cls)
    {
        for (int i = 0; i < All.Count; i++) if (All[i] == cls) return i;
        return All.Count;
    }

    /// <summary>Classes whose work is products on the tensor cores (their FLOP share of the peak means something).</summary>
    public static bool IsProduct(string cls) => cls is AttentionSelf or AttentionCross or Conv or Linear or GemmEpilogue;
}
