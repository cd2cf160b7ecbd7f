namespace LayerDiffusion.Native.Backends.Cuda.Kernels;

// The signatures of kernels/gemm.cu and kernels/random.cu (see IKernelArgs).

/// <summary>The plain column-major GEMM (cuBLASLt's fallback), output in the storage type.</summary>
internal readonly record struct LdGemm(int TransA, int TransB, long M, long N, long K, DevPtr A, long Lda, long StrideA,
    DevPtr B, long Ldb, long StrideB, DevPtr D, long Ldd, long StrideD, int Batch, DevPtr Bias, float Alpha, float Beta) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_gemm_{t}", KernelFamily.StorageTypes);
}

/// <summary>The plain GEMM with fp32 output and bias (the general attention path's scores).</summary>
internal readonly record struct LdGemmOutF32(int TransA, int TransB, long M, long N, long K, DevPtr A, long Lda, long StrideA,
    DevPtr B, long Ldb, long StrideB, DevPtr D, long Ldd, long StrideD, int Batch, DevPtr Bias, float Alpha, float Beta) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_gemm_{t}_out_f32", KernelFamily.StorageTypes);
}

/// <summary>torch's CUDA randn (Philox4x32-10) for a generator at Philox block base_block, fp32 out.</summary>
internal readonly record struct LdRandnPhiloxF32(ulong Seed, ulong BaseBlock, long Threads, long N, DevPtr Y) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_randn_philox_f32");
}
