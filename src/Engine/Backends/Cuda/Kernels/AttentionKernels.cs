namespace LayerDiffusion.Native.Backends.Cuda.Kernels;

// The signatures of kernels/attention*.cu (see IKernelArgs): every attention kernel takes q [B, N, H·D], k and v
// [B, M, H·D], o [B, N, H·D], the query and key counts, the head count, the scale, a causal flag, and the row
// strides of q (Sq) and of k and v (Skv) in elements: H·D for separate tensors, 3·H·D for a packed q|k|v.

/// <summary>SIMT flash kernel, head width 64; grid (⌈N/64⌉, heads, B), 64 threads.</summary>
internal readonly record struct LdFlashD64(DevPtr Q, DevPtr K, DevPtr V, DevPtr O, int Nq, int Nk, int Heads, float Scale, int Causal, int Sq, int Skv) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_flash_d64_{t}", KernelFamily.StorageTypes);
}

/// <summary>SIMT flash kernel, head width 8; grid (⌈N/128⌉, heads, B), 128 threads.</summary>
internal readonly record struct LdFlashD8(DevPtr Q, DevPtr K, DevPtr V, DevPtr O, int Nq, int Nk, int Heads, float Scale, int Causal, int Sq, int Skv) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_flash_d8_{t}", KernelFamily.StorageTypes);
}

/// <summary>
/// SIMT flash kernel for head widths below 8 (D = 8's kernel with the width <c>D</c> a run-time value,
/// the missing dims zeros); grid (⌈N/128⌉, heads, B), 128 threads.
/// </summary>
internal readonly record struct LdFlashSmall(DevPtr Q, DevPtr K, DevPtr V, DevPtr O, int Nq, int Nk, int Heads, int D, float Scale, int Causal, int Sq, int Skv) : IKernelArgs
{
    public const int MaxWidth = 8;
    public static KernelName Kernel { get; } = new("ld_flash_small_{t}", KernelFamily.StorageTypes);
}

/// <summary>Tensor-core flash kernel (attention_mma.cu), head width 64; grid (⌈N/64⌉, heads, B), 128 threads.</summary>
internal readonly record struct LdFlashMmaD64(DevPtr Q, DevPtr K, DevPtr V, DevPtr O, int Nq, int Nk, int Heads, float Scale, int Causal, int Sq, int Skv) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_flash_mma_d64_{t}", KernelFamily.HalfTypes);
}

/// <summary>Pipelined tensor-core kernel (attention_mma2.cu), 8 warps; grid (⌈N/128⌉, heads, B), 256 threads.</summary>
internal readonly record struct LdFlashMma2D64W8(DevPtr Q, DevPtr K, DevPtr V, DevPtr O, int Nq, int Nk, int Heads, float Scale, int Causal, int Sq, int Skv) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_flash_mma2_d64_w8_{t}", KernelFamily.HalfTypes);
}

/// <summary>Pipelined tensor-core kernel (attention_mma2.cu), 4 warps; grid (⌈N/64⌉, heads, B), 128 threads.</summary>
internal readonly record struct LdFlashMma2D64W4(DevPtr Q, DevPtr K, DevPtr V, DevPtr O, int Nq, int Nk, int Heads, float Scale, int Causal, int Sq, int Skv) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_flash_mma2_d64_w4_{t}", KernelFamily.HalfTypes);
}

/// <summary>Tensor-core kernel for head width 8 (attention_d8.cu); grid (⌈N/128⌉, heads, B), 256 threads.</summary>
internal readonly record struct LdFlashMmaD8(DevPtr Q, DevPtr K, DevPtr V, DevPtr O, int Nq, int Nk, int Heads, float Scale, int Causal, int Sq, int Skv) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_flash_mma_d8_{t}", KernelFamily.HalfTypes);
}

/// <summary>Single-tile tensor-core kernel for ≤ 80 keys, head width 64 (attention_cross.cu); grid (⌈N/256⌉, heads, B), 128 threads.</summary>
internal readonly record struct LdFlashCrossD64(DevPtr Q, DevPtr K, DevPtr V, DevPtr O, int Nq, int Nk, int Heads, float Scale, int Causal, int Sq, int Skv) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_flash_cross_d64_{t}", KernelFamily.HalfTypes);
}

/// <summary>
/// Attention over at most <see cref="MaxKeys"/> keys, any head width (attention_fewkeys.cu: SD1.5 attention sharing's
/// temporal attention across frames); one thread per (batch, query, head) row, a 1-D grid-stride launch.
/// </summary>
internal readonly record struct LdAttnFewKeys(DevPtr Q, DevPtr K, DevPtr V, DevPtr O, int Batch, int Nq, int Nk, int Heads, int D, float Scale, int Sq, int Skv) : IKernelArgs
{
    public const int MaxKeys = 16;
    public static KernelName Kernel { get; } = new("ld_attn_fewkeys_{t}", KernelFamily.StorageTypes);
}
