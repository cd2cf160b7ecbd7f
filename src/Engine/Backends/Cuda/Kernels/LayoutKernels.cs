using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Backends.Cuda.Kernels;

// The signatures of kernels/layout.cu (see IKernelArgs).

/// <summary>dst[r, c] = src[r, c] with row strides in elements; grid (⌈cols / (16 bytes · 256)⌉, min(rows, 65535)).</summary>
internal readonly record struct LdCopy2d(long Rows, long Cols, DevPtr Src, long SrcStride, DevPtr Dst, long DstStride) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_copy2d_{t}", KernelFamily.ElementSizes);
}

/// <summary>Matches kernels/layout.cu's PermuteShape.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PermuteShape
{
    public int Rank;
    public Divmods8 OutShape;
    public Longs8 InStride;
}

/// <summary>y[i] = x[Σ idx[d]·in_stride[d]] over the output's row-major index; n &lt; 2^31.</summary>
internal readonly record struct LdPermute(int N, DevPtr X, DevPtr Y, PermuteShape S) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_permute_{t}", KernelFamily.ElementSizes);
}

/// <summary>x [batch, rows, cols] to y [batch, cols, rows] by 32×32 shared tiles; grid (⌈cols/32⌉, ⌈rows/32⌉, batch), 256 threads.</summary>
internal readonly record struct LdTranspose(int Rows, int Cols, DevPtr X, DevPtr Y) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_transpose_{t}", KernelFamily.ElementSizes);
}

/// <summary>Nearest 2× upsampling of [planes, h, w]; grid (⌈w / 256⌉, min(h, 65535), min(planes, 65535)).</summary>
internal readonly record struct LdUpsample2x(long Planes, int H, int W, DevPtr X, DevPtr Y) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_upsample2x_{t}", KernelFamily.ElementSizes);
}

/// <summary>The decoder's flip + rot90 augmentation of [planes, h, w] (or its inverse).</summary>
internal readonly record struct LdFliprot(long Planes, int H, int W, int Flip, int K, int Inverse, DevPtr X, DevPtr Y) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_fliprot_{t}", KernelFamily.ElementSizes);
}

/// <summary>Matches kernels/layout.cu's Ptr8: eight device pointers by value.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct Ptr8
{
    public fixed ulong P[8];
}

/// <summary>Lower median of 8 same-shape tensors.</summary>
internal readonly record struct LdMedian8(long N, Ptr8 Src, DevPtr Y) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_median8_{t}", KernelFamily.StorageTypes);
}

/// <summary>im2col of one image for output rows [r0, r0 + rows); grid (⌈wo / 256⌉, min(kdim, 65535), min(rows, 65535)).</summary>
internal readonly record struct LdIm2col(DevPtr X, DevPtr Col, int Ci, int H, int W, int Kh, int Kw, int Stride, int Pad, int R0, int Rows, int Wo) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_im2col_{t}", KernelFamily.ElementSizes);
}

/// <summary>A weight [outs, in_old, inner] grown to [outs, in_new, inner] with zeros.</summary>
internal readonly record struct LdGrowIn(long Outs, int InOld, int InNew, long Inner, DevPtr X, DevPtr Y) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_grow_in_{t}", KernelFamily.ElementSizes);
}

/// <summary>x [n, c, hw] to interleaved bytes round(clamp(x·scale + shift, 0, 255)).</summary>
internal readonly record struct LdToBytes(long Images, int C, long Hw, DevPtr X, DevPtr Y, float Scale, float Shift) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_to_bytes_{t}", KernelFamily.StorageTypes);
}

/// <summary>The 8 augmented decoder passes undone and combined by their lower median.</summary>
internal readonly record struct LdUnaugmentMedian8(long Planes, int H, int W, Ptr8 Src, DevPtr Y) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_unaugment_median8_{t}", KernelFamily.StorageTypes);
}
