using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends;

/// <summary>
/// Every operation the model graphs use. Graph code (Models/*) is written once against this interface; the CPU
/// backend is the exact fp32 reference and the CUDA backend must match it op for op (see the selftest).
/// Layout conventions: images are NCHW; token sequences are [B, N, C]; weights keep their checkpoint layout
/// (linear [out, in], conv [out, in, kh, kw]). Every op returns a new tensor and leaves its inputs untouched; the new
/// tensor belongs to the current <see cref="TensorScope"/>.
/// </summary>
public interface IBackend : IDisposable
{
    string Name { get; }

    // ---- data movement
    Tensor FromHost(ReadOnlySpan<float> data, params int[] shape);
    float[] ToHost(Tensor t);
    /// <summary>
    /// Loads a stored tensor (any float dtype) as a weight; the backend picks its storage precision. Weights belong
    /// to no <see cref="TensorScope"/>: the loader disposes them.
    /// </summary>
    Tensor LoadWeight(SafeTensorsFile file, string name);
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
}
