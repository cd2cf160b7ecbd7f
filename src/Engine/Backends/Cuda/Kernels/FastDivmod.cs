using System.Numerics;
using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Backends.Cuda.Kernels;

/// <summary>
/// Matches kernels/ld_cuda.h's FastDivmod: the kernel computes n / D for 0 ≤ n &lt; 2^31 as
/// (mulhi(n, Mul) + n) >> Shift (Granlund–Montgomery: Shift = ⌈log2 D⌉, Mul = ⌊2^32·(2^Shift − D) / D⌋ + 1), so
/// index arithmetic needs no divide instruction.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct FastDivmod(int D, uint Mul, uint Shift)
{
    public static FastDivmod For(int d)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        int shift = d == 1 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)(d - 1));
        ulong mul = ((1UL << 32) * ((1UL << shift) - (ulong)d)) / (ulong)d + 1;
        return new FastDivmod(d, (uint)mul, (uint)shift);
    }

    /// <summary>The kernel's arithmetic, on the host (tests).</summary>
    public int Divide(int n)
    {
        uint high = (uint)(((ulong)(uint)n * Mul) >> 32);
        return (int)((high + (uint)n) >> (int)Shift);
    }
}
