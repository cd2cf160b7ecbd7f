using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Random;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends;

/// <summary>
/// Every operation the model graphs use. Graph code (Models/*) is written once against this interface; the CPU
/// backend is the exact fp32 reference and the CUDA backend must match it op for op (see the selftest).
/// Layout conventions: images are NCHW; token sequences are [B, N, C]; weights keep their checkpoint layout
/// (linear [out, in], conv [out, in, kh, kw]). Every op returns a new tensor and leaves its inputs untouched; the new
/// tensor belongs to the current <see cref="TensorScope"/>.
/// The fused operations at the end are capabilities with a default: the default is built from the basic ops (and is
/// the CPU reference), a backend may replace it with a faster equivalent (the CUDA kernels), and model code calls
/// them without asking which backend it has.
/// </summary>
public interface IBackend : IDisposable, IPhiloxNormalDevice
{
    string Name { get; }

    /// <summary>
    /// The backend the VAE-family networks (SDXL VAE, transparent decoder and encoder) run on: this one, unless its
    /// precision overflows them (see <see cref="NetworkPrecision"/>).
    /// </summary>
    IBackend VaeFamily => this;

    /// <summary>
    /// A recorder for a forward run at every sampling step (see <see cref="IForwardGraph"/>), or null where the backend
    /// has none (the CPU) or it is switched off: then the caller runs the forward itself.
    /// </summary>
    IForwardGraph? CreateForwardGraph() => null;

    /// <summary>
    /// Promises that <paramref name="constants"/> keep their values until the returned hold is disposed, so their
    /// Linear products may be computed once and reused (see <see cref="ConstantProducts"/>: the cross-attention K and V
    /// of a generation's text conditioning). A backend without a cache ignores it.
    /// </summary>
    IDisposable HoldProductsOf(IReadOnlyList<Tensor> constants) => NoHold.Instance;

    // ---- data movement
    Tensor FromHost(ReadOnlySpan<float> data, params int[] shape);
    float[] ToHost(Tensor t);
    /// <summary>
    /// Loads a stored tensor (any float dtype) as a weight; the backend picks its storage precision. Weights belong
    /// to no <see cref="TensorScope"/>: the loader disposes them.
    /// </summary>
    Tensor LoadWeight(SafeTensorsFile file, string name);
    /// <summary>
    /// A tensor of another backend as a new tensor of this one (the input is untouched): copied and converted device
    /// to device when both backends share a device (UNet latents in fp16 to an fp32 VAE backend), through the host
    /// only across devices.
    /// </summary>
    Tensor Import(Tensor x);
    /// <summary>Same data, new shape (element count must match). May share storage with the input.</summary>
    Tensor Reshape(Tensor x, params int[] shape);

    // ---- linear algebra
    /// <summary>y[..., N] = x[..., K] · w[N, K]ᵀ (+ bias[N]).</summary>
    Tensor Linear(Tensor x, Tensor w, Tensor? bias);
    /// <summary>
    /// Linear(x, w, bias) + residual (residual shaped like the output): a transformer block's residual add done by
    /// the product itself (on the GPU, cuBLASLt's epilogue with C = residual, beta = 1) instead of a separate pass.
    /// </summary>
    Tensor LinearAdd(Tensor x, Tensor w, Tensor? bias, Tensor residual);
    /// <summary>Batched matrix product: a[B, M, K] · b[B, K, N] (rank-2 operands have B = 1).</summary>
    Tensor MatMul(Tensor a, Tensor b);
    /// <summary>2-D convolution, NCHW input, [O, I, kh, kw] weight, square stride and symmetric zero padding.</summary>
    Tensor Conv2d(Tensor x, Tensor w, Tensor? bias, int stride, int padding);
    /// <summary>
    /// Conv2d(x, w, bias) + residual, the residual of the output's shape (a ResNet block's skip connection): the GPU
    /// adds it in the convolution's epilogue instead of a separate pass.
    /// </summary>
    Tensor Conv2dAdd(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor residual);

    // ---- normalisation and attention
    /// <summary>GroupNorm over [N, C, ...] with per-channel affine; optionally SiLU fused after it.</summary>
    Tensor GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, bool silu);
    /// <summary>
    /// GroupNorm(x + add) with add [N, C] (or [N, C, 1, 1]) broadcast over the spatial axes: the UNet ResBlock's
    /// h + emb[:, :, None, None] before its second norm, without storing the sum.
    /// </summary>
    Tensor GroupNormAdd(Tensor x, Tensor add, int groups, Tensor gamma, Tensor beta, float eps, bool silu);
    /// <summary>LayerNorm over the last axis with affine.</summary>
    Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps);
    /// <summary>Softmax over the last axis.</summary>
    Tensor Softmax(Tensor x);
    /// <summary>
    /// Multi-head scaled-dot-product attention. q [B, N, H·D], k and v [B, M, H·D]; scale 1/√D;
    /// causal masks key j > query i. Returns [B, N, H·D].
    /// </summary>
    Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, bool causal);
    /// <summary>
    /// Self-attention on a packed projection qkv [B, N, 3·H·D] (q | k | v along the last axis: one Linear on the
    /// concatenated to_q/to_k/to_v weights); the same as Attention on the three slices. Returns [B, N, H·D].
    /// </summary>
    Tensor AttentionQkv(Tensor qkv, int heads, bool causal);

    // ---- activations
    Tensor Silu(Tensor x);
    /// <summary>Exact GELU (erf).</summary>
    Tensor Gelu(Tensor x);
    /// <summary>x · sigmoid(1.702 x), CLIP-L's activation.</summary>
    Tensor QuickGelu(Tensor x);
    /// <summary>x[..., 2F] → a · gelu(g) with a = first half, g = second half.</summary>
    Tensor Geglu(Tensor x);

    // ---- elementwise (numpy broadcasting of trailing axes)
    Tensor Add(Tensor a, Tensor b);
    Tensor Sub(Tensor a, Tensor b);
    Tensor Mul(Tensor a, Tensor b);
    /// <summary>x · scale + shift.</summary>
    Tensor Affine(Tensor x, float scale, float shift);
    Tensor Clamp(Tensor x, float min, float max);

    // ---- layout
    Tensor Concat(int axis, params Tensor[] xs);
    Tensor Slice(Tensor x, int axis, int start, int length);
    Tensor Permute(Tensor x, params int[] perm);
    /// <summary>Nearest-neighbour 2× upsampling of NCHW.</summary>
    Tensor Upsample2x(Tensor x);
    /// <summary>
    /// The decoder's test-time augmentation on NCHW: optionally flip along W, then rotate by k·90° in the (H, W)
    /// plane as torch.rot90(x, k, dims=(2, 3)). Inverse undoes it (rot90 by -k, then flip).
    /// </summary>
    Tensor FlipRot(Tensor x, bool flipW, int k, bool inverse);
    /// <summary>Element-wise lower median (torch.median: the 4th smallest) of 8 same-shape tensors.</summary>
    Tensor Median8(Tensor[] xs);

    // ---- fused operations (defaults built from the ops above)
    /// <summary>
    /// The transparent decoder's test-time augmentation undone and combined: <paramref name="passes"/>[i] is the
    /// output of pass i = flip·4 + k, and the result is Median8 of FlipRot(passes[i], i ≥ 4, i % 4, inverse).
    /// </summary>
    Tensor UnaugmentMedian8(Tensor[] passes)
    {
        ShapeRules.UnaugmentMedian8(passes);
        using var scope = TensorScope.Open();
        return scope.MoveToOuter(Median8(passes.Select((t, i) => FlipRot(t, i >= 4, i & 3, inverse: true)).ToArray()));
    }

    /// <summary>
    /// A LoRA pair merged into a weight: W' = W + scale · (up · down), up [out, rank], down [rank, in·kh·kw] (or
    /// [rank, in, kh, kw]), W [out, in] or [out, in, kh, kw]. When down has more input channels than W (a patch that
    /// widens a layer's input, as LayerDiffusion's conv_in does), W first grows with zero input channels. The
    /// default rounds after each op (exact on the fp32 CPU); a GPU backend accumulates in fp32 and rounds once.
    /// </summary>
    Tensor MergeLora(Tensor weight, Tensor up, Tensor down, float scale)
    {
        var merged = ShapeRules.MergeLora(weight, up, down);
        using var scope = TensorScope.Open();
        var product = Reshape(MatMul(up, Reshape(down, down.Dim(0), -1)), merged);
        return scope.MoveToOuter(Add(GrowInputs(weight, merged[1]), Affine(product, scale, 0f)));
    }

    /// <summary>
    /// A full weight difference merged: W' = W + scale · ΔW (any rank: biases and norms too), W first grown with zero
    /// input channels when ΔW has more (LayerDiffusion's widened conv_in). Rounding as in <see cref="MergeLora"/>.
    /// </summary>
    Tensor MergeDiff(Tensor weight, Tensor delta, float scale)
    {
        ShapeRules.MergeDiff(weight, delta);
        using var scope = TensorScope.Open();
        var grown = Shape.Equal(weight.Shape, delta.Shape) ? weight : GrowInputs(weight, delta.Dim(1));
        return scope.MoveToOuter(Add(grown, Affine(delta, scale, 0f)));
    }

    /// <summary>W [out, in, ...] with zero input channels appended up to <paramref name="inputs"/> (W itself when equal).</summary>
    private Tensor GrowInputs(Tensor weight, int inputs)
    {
        if (inputs == weight.Dim(1)) return weight;
        var zeros = (int[])weight.Shape.Clone();
        zeros[1] = inputs - weight.Dim(1);
        return Concat(1, weight, FromHost(new float[Shape.Count(zeros)], zeros));
    }

    // ---- torch's CUDA randn (Philox): where the backend computes it and for which card's layout
    /// <summary>The SM count torch's launch grid is laid out for: a GPU's own, else an H100/H200's.</summary>
    int IPhiloxNormalDevice.MultiprocessorCount => TorchCudaGenerator.DefaultSmCount;
    int IPhiloxNormalDevice.MaxThreadsPerMultiprocessor => TorchCudaGenerator.DefaultMaxThreadsPerSm;
    /// <summary>The draws, computed on the host by default (the GPU backend runs kernels/random.cu).</summary>
    float[] IPhiloxNormalDevice.PhiloxNormal(ulong seed, ulong baseBlock, long threads, int n) =>
        TorchCudaGenerator.PhiloxNormal(seed, baseBlock, threads, n);
}

/// <summary>The hold of a backend that caches nothing.</summary>
internal sealed class NoHold : IDisposable
{
    public static readonly NoHold Instance = new();
    public void Dispose() { }
}
