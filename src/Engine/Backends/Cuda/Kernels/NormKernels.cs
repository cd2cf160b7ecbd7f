namespace LayerDiffusion.Native.Backends.Cuda.Kernels;

// The signatures of kernels/norm.cu (see IKernelArgs).

/// <summary>GroupNorm pass 1: (mean, M2) of each piece of each group of x (+ add[N, C] when not null); grid (chunks, N·groups).</summary>
internal readonly record struct LdGnStats(DevPtr X, DevPtr Add, DevPtr Partial, int Len, FastDivmod Spatial, int Piece, int Chunks,
    int Groups, int Cpg, int Channels) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_gn_stats_{t}", KernelFamily.StorageTypes);
}

/// <summary>GroupNorm pass 2: merge the pieces' statistics, normalise x (+ add), affine, optional SiLU.</summary>
internal readonly record struct LdGnApply(DevPtr X, DevPtr Add, DevPtr Y, DevPtr Partial, DevPtr Gamma, DevPtr Beta, int Len, FastDivmod Spatial,
    int Piece, int Chunks, int Groups, int Cpg, int Channels, float Eps, int Silu) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_gn_apply_{t}", KernelFamily.StorageTypes);
}

/// <summary>LayerNorm over rows of n, one block per row (rows of n ≤ 8 · 4 · threads, n % 8 = 0, held in registers).</summary>
internal readonly record struct LdLayernorm(DevPtr X, DevPtr Y, DevPtr Gamma, DevPtr Beta, int N, float Eps) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_layernorm_{t}", KernelFamily.StorageTypes);
}

/// <summary>Softmax over rows of n, one block per row.</summary>
internal readonly record struct LdSoftmax(DevPtr X, DevPtr Y, int N) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_softmax_{t}", KernelFamily.StorageTypes);
}

/// <summary>The general attention path's softmax: fp32 scores in, scaled and optionally causal-masked, storage type out.</summary>
internal readonly record struct LdAttnSoftmax(DevPtr X, DevPtr Y, int N, float Scale, int Causal, int Q0, int RowsPerHead) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_attn_softmax_{t}", KernelFamily.StorageTypes);
}
