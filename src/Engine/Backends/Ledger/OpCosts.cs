using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Ledger;

/// <summary>What one op call costs: its class, floating-point operations and bytes moved.</summary>
public readonly record struct OpCost(string Class, long Flops, long Bytes);

/// <summary>
/// The cost rule of every <see cref="IBackend"/> op, in one place: FLOPs and bytes derived from the op's shapes and
/// the tensors' storage dtypes alone, so the CPU, the emulated GPU and a real GPU count the same work the same way
/// (the fp16 GPU moves half the CPU's bytes because its tensors are half as wide, nothing else differs). One method
/// per op, named as the op; tests/Bench/LedgerTests fails when an op has none.
/// </summary>
/// <remarks>
/// Conventions:
/// - Bytes are the compulsory traffic: every operand read once and the result written once, at its storage dtype
///   (host arrays as fp32). A kernel that reads an operand twice (a two-pass norm) or spills intermediates moves
///   more; the achieved GB/s the ledger prints is against this minimum. A view (Reshape) moves nothing.
/// - A multiply-add counts 2 FLOPs. Attention counts its two products only (4·B·H·Nq·Nk·D, the masked half left out
///   when causal), as FlashAttention's benchmarks do; the softmax is not counted.
/// - Elementwise work counts the arithmetic per output element listed in <see cref="PerElement"/> (a
///   transcendental, a comparison or a min/max is 1), whatever instructions a backend spends on it.
/// </remarks>
public static class OpCosts
{
    /// <summary>FLOPs per output element of the elementwise and normalising ops.</summary>
    public static class PerElement
    {
        public const int Add = 1, Sub = 1, Mul = 1;
        /// <summary>x · scale + shift.</summary>
        public const int Affine = 2;
        /// <summary>min then max.</summary>
        public const int Clamp = 2;
        /// <summary>x / (1 + exp(−x)): negate, exp, add, divide.</summary>
        public const int Silu = 4;
        /// <summary>0.5 · x · (1 + erf(x / √2)): scale, erf, add, two multiplies.</summary>
        public const int Gelu = 5;
        /// <summary>x · sigmoid(1.702 x): scale, negate, exp, add, divide, multiply.</summary>
        public const int QuickGelu = 6;
        /// <summary>a · gelu(g).</summary>
        public const int Geglu = Gelu + 1;
        /// <summary>Mean and variance (sum and sum of squares: 3), then (x − mean) · rstd · γ + β (4).</summary>
        public const int Norm = 7;
        /// <summary>Max, subtract, exp, sum, divide.</summary>
        public const int Softmax = 5;
        /// <summary>The lower median of 8 as the optimal 8-input sorting network: 19 compare-exchanges, a min and a max each.</summary>
        public const int Median8 = 38;
    }

    /// <summary>Bytes a tensor occupies at its storage dtype (fp32 on the CPU, the backend's dtype on a GPU).</summary>
    public static long Bytes(Tensor t) => (long)t.Count * ElementSize(t);

    private static int ElementSize(Tensor t) => t is CudaTensor c ? DTypes.Size(c.DType) : sizeof(float);

    private static long Bytes(Tensor? a, Tensor b) => (a is null ? 0 : Bytes(a)) + Bytes(b);
    private static long Sum(IEnumerable<Tensor> ts) => ts.Sum(Bytes);

    // ---- data movement
    public static OpCost FromHost(int hostValues, Tensor y) => new(OpClass.Copy, 0, (long)hostValues * sizeof(float) + Bytes(y));
    public static OpCost ToHost(Tensor x) => new(OpClass.Copy, 0, Bytes(x) + (long)x.Count * sizeof(float));
    public static OpCost LoadWeight(SafeTensorsFile file, string name, Tensor y) => new(OpClass.Copy, 0, file.Info(name).Length + Bytes(y));
    public static OpCost Import(Tensor x, Tensor y) => new(OpClass.Copy, 0, Bytes(x) + Bytes(y));
    public static OpCost Reshape(Tensor x, Tensor y) => new(OpClass.Layout, 0, 0);

    // ---- linear algebra
    public static OpCost Linear(Tensor x, Tensor w, Tensor? bias, Tensor y) =>
        new(OpClass.Linear, Product(x, w) + (bias is null ? 0 : y.Count), Bytes(x) + Bytes(bias, w) + Bytes(y));

    public static OpCost LinearAdd(Tensor x, Tensor w, Tensor? bias, Tensor residual, Tensor y) =>
        new(OpClass.GemmEpilogue, Product(x, w) + (bias is null ? 0 : y.Count) + y.Count,
            Bytes(x) + Bytes(bias, w) + Bytes(residual) + Bytes(y));

    /// <summary>2·M·N·K of y[..., N] = x[..., K] · w[N, K]ᵀ.</summary>
    private static long Product(Tensor x, Tensor w) => 2L * x.Count * w.Dim(0);

    public static OpCost MatMul(Tensor a, Tensor b, Tensor y) =>
        new(OpClass.Linear, 2L * y.Count * a.Dim(-1), Bytes(a) + Bytes(b) + Bytes(y));

    public static OpCost Conv2d(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor y) =>
        new(OpClass.Conv, Convolution(w, y) + (bias is null ? 0 : y.Count), Bytes(x) + Bytes(bias, w) + Bytes(y));

    public static OpCost Conv2dAdd(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor residual, Tensor y) =>
        new(OpClass.GemmEpilogue, Convolution(w, y) + (bias is null ? 0 : y.Count) + y.Count,
            Bytes(x) + Bytes(bias, w) + Bytes(residual) + Bytes(y));

    /// <summary>2 · (output elements) · (input channels · kh · kw).</summary>
    private static long Convolution(Tensor w, Tensor y) => 2L * y.Count * w.Dim(1) * w.Dim(2) * w.Dim(3);

    // ---- normalisation and attention
    public static OpCost GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, bool silu, Tensor y) =>
        new(OpClass.Norm, (long)y.Count * (PerElement.Norm + (silu ? PerElement.Silu : 0)), Bytes(x) + Bytes(gamma) + Bytes(beta) + Bytes(y));

    public static OpCost GroupNormAdd(Tensor x, Tensor add, int groups, Tensor gamma, Tensor beta, float eps, bool silu, Tensor y) =>
        new(OpClass.Fused, (long)y.Count * (PerElement.Add + PerElement.Norm + (silu ? PerElement.Silu : 0)),
            Bytes(x) + Bytes(add) + Bytes(gamma) + Bytes(beta) + Bytes(y));

    public static OpCost LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps, Tensor y) =>
        new(OpClass.Norm, (long)y.Count * PerElement.Norm, Bytes(x) + Bytes(gamma) + Bytes(beta) + Bytes(y));

    public static OpCost Softmax(Tensor x, Tensor y) => new(OpClass.Norm, (long)y.Count * PerElement.Softmax, Bytes(x) + Bytes(y));

    /// <param name="selfAttention">whether k comes from the queries' own tokens (the recorder decides: <see cref="RecordingBackend"/>)</param>
    public static OpCost Attention(Tensor q, Tensor k, Tensor v, int heads, bool causal, Tensor y, bool selfAttention) =>
        new(selfAttention ? OpClass.AttentionSelf : OpClass.AttentionCross, AttentionProducts(q.Dim(0), q.Dim(1), k.Dim(1), q.Dim(2), causal),
            Bytes(q) + Bytes(k) + Bytes(v) + Bytes(y));

    public static OpCost AttentionQkv(Tensor qkv, int heads, bool causal, Tensor y) =>
        new(OpClass.AttentionSelf, AttentionProducts(qkv.Dim(0), qkv.Dim(1), qkv.Dim(1), y.Dim(2), causal), Bytes(qkv) + Bytes(y));

    /// <summary>
    /// q·kᵀ and p·v: 2 · 2 · B · (query, key) pairs · H·D, where a causal mask leaves query i its first min(i + 1, Nk) keys.
    /// </summary>
    private static long AttentionProducts(int batch, int queries, int keys, int width, bool causal)
    {
        long pairs = (long)queries * keys;
        if (causal)
        {
            long full = Math.Max(0, queries - keys);           // queries that see every key
            long partial = Math.Min(queries, keys);            // queries 0..partial-1 see i + 1 keys
            pairs = partial * (partial + 1) / 2 + full * keys;
        }
        return 4L * batch * pairs * width;
    }

    // ---- activations and elementwise
    public static OpCost Silu(Tensor x, Tensor y) => Elementwise(PerElement.Silu, x, y);
    public static OpCost Gelu(Tensor x, Tensor y) => Elementwise(PerElement.Gelu, x, y);
    public static OpCost QuickGelu(Tensor x, Tensor y) => Elementwise(PerElement.QuickGelu, x, y);
    public static OpCost Geglu(Tensor x, Tensor y) => Elementwise(PerElement.Geglu, x, y);
    public static OpCost Add(Tensor a, Tensor b, Tensor y) => Elementwise(PerElement.Add, a, b, y);
    public static OpCost Sub(Tensor a, Tensor b, Tensor y) => Elementwise(PerElement.Sub, a, b, y);
    public static OpCost Mul(Tensor a, Tensor b, Tensor y) => Elementwise(PerElement.Mul, a, b, y);
    public static OpCost Affine(Tensor x, float scale, float shift, Tensor y) => Elementwise(PerElement.Affine, x, y);
    public static OpCost Clamp(Tensor x, float min, float max, Tensor y) => Elementwise(PerElement.Clamp, x, y);
    public static OpCost Median8(Tensor[] xs, Tensor y) => new(OpClass.Elementwise, (long)y.Count * PerElement.Median8, Sum(xs) + Bytes(y));

    private static OpCost Elementwise(int perElement, Tensor x, Tensor y) => new(OpClass.Elementwise, (long)y.Count * perElement, Bytes(x) + Bytes(y));

    /// <summary>A broadcast operand is read once at its own size (a bias row is not re-read per row in the count).</summary>
    private static OpCost Elementwise(int perElement, Tensor a, Tensor b, Tensor y) =>
        new(OpClass.Elementwise, (long)y.Count * perElement, Bytes(a) + Bytes(b) + Bytes(y));

    // ---- layout
    public static OpCost Concat(int axis, Tensor[] xs, Tensor y) => Moved(Sum(xs), y);
    /// <summary>Only the slice is read.</summary>
    public static OpCost Slice(Tensor x, int axis, int start, int length, Tensor y) => Moved(Bytes(y), y);
    public static OpCost Permute(Tensor x, int[] perm, Tensor y) => Moved(Bytes(x), y);
    public static OpCost Upsample2x(Tensor x, Tensor y) => Moved(Bytes(x), y);
    public static OpCost FlipRot(Tensor x, bool flipW, int k, bool inverse, Tensor y) => Moved(Bytes(x), y);

    private static OpCost Moved(long read, Tensor y) => new(OpClass.Layout, 0, read + Bytes(y));

    // ---- fused capabilities
    public static OpCost UnaugmentMedian8(Tensor[] passes, Tensor y) => new(OpClass.Fused, (long)y.Count * PerElement.Median8, Sum(passes) + Bytes(y));

    /// <summary>W + scale · (up · down): the rank-r product, then a scale and an add per weight element.</summary>
    public static OpCost MergeLora(Tensor weight, Tensor up, Tensor down, float scale, Tensor y) =>
        new(OpClass.Fused, 2L * up.Dim(0) * up.Dim(1) * (down.Count / down.Dim(0)) + 2L * y.Count,
            Bytes(weight) + Bytes(up) + Bytes(down) + Bytes(y));

    public static OpCost MergeDiff(Tensor weight, Tensor delta, float scale, Tensor y) =>
        new(OpClass.Fused, 2L * y.Count, Bytes(weight) + Bytes(delta) + Bytes(y));

    // ---- sampling noise (IPhiloxNormalDevice)
    /// <summary>The draws are not counted as FLOPs; the bytes are the values handed to the host.</summary>
    public static OpCost PhiloxNormal(int n) => new(OpClass.Random, 0, (long)n * sizeof(float));
}
