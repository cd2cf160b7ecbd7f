using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Backends.Cuda.Kernels;

// The signatures of kernels/elementwise.cu (see IKernelArgs).

/// <summary>y[i] = x[i] converted between storage types.</summary>
internal readonly record struct LdCast(long N, DevPtr X, DevPtr Y) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_cast_{s}_{d}", KernelFamily.TypePairs);
}

/// <summary>y = op(x): 0 silu, 1 exact gelu, 2 quick gelu, 3 x·a + b, 4 clamp to [a, b].</summary>
internal readonly record struct LdUnary(long N, DevPtr X, DevPtr Y, int Op, float A, float B) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_unary_{t}", KernelFamily.StorageTypes);
}

/// <summary>y[rows, f] = x[:, :f] · gelu(x[:, f:]) for x [rows, 2f]; grid (⌈f / 2048⌉, min(rows, 65535)).</summary>
internal readonly record struct LdGeglu(long Rows, int F, DevPtr X, DevPtr Y) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_geglu_{t}", KernelFamily.StorageTypes);
}

/// <summary>Eight axis sizes as kernel divisors.</summary>
[InlineArray(8)]
internal struct Divmods8
{
    private FastDivmod _first;
}

/// <summary>Eight strides.</summary>
[InlineArray(8)]
internal struct Longs8
{
    private long _first;
}

/// <summary>Matches kernels/elementwise.cu's BroadcastShape (rank ≤ 8; a broadcast axis has stride 0).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BroadcastShape
{
    public int Rank;
    public Divmods8 Shape;
    public Longs8 StrideA;
    public Longs8 StrideB;
}

/// <summary>y = a op b with broadcasting (op: 0 add, 1 sub, 2 mul); n &lt; 2^31.</summary>
internal readonly record struct LdBinary(int N, DevPtr A, DevPtr B, DevPtr Y, int Op, BroadcastShape S) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_binary_{t}", KernelFamily.StorageTypes);
}

/// <summary>y = a op b for same-shape operands.</summary>
internal readonly record struct LdBinarySame(long N, DevPtr A, DevPtr B, DevPtr Y, int Op) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_binary_same_{t}", KernelFamily.StorageTypes);
}

/// <summary>y[planes, hw] += bias[plane % c]; grid (⌈hw / 2048⌉, min(planes, 65535)).</summary>
internal readonly record struct LdChannelBias(long Planes, DevPtr Y, DevPtr Bias, int C, int Hw) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_channel_bias_{t}", KernelFamily.StorageTypes);
}

/// <summary>y += a·x in fp32, one rounding.</summary>
internal readonly record struct LdAxpy(long N, DevPtr X, DevPtr Y, float A) : IKernelArgs
{
    public static KernelName Kernel { get; } = new("ld_axpy_{t}", KernelFamily.StorageTypes);
}
