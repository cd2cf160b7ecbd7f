using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.IO;

/// <summary>Element conversions between stored dtypes and fp32.</summary>
public static class Convert
{
    public static void ToFloat32(ReadOnlySpan<byte> src, DType dtype, Span<float> dst)
    {
        switch (dtype)
        {
            case DType.F32: MemoryMarshal.Cast<byte, float>(src).CopyTo(dst); break;
            case DType.F16:
                System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src), dst);
                break;
            case DType.BF16:
            {
                var s = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < s.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(s[i] << 16);
                break;
            }
            case DType.F64: { var s = MemoryMarshal.Cast<byte, double>(src); for (int i = 0; i < s.Length; i++) dst[i] = (float)s[i]; break; }
            case DType.I64: { var s = MemoryMarshal.Cast<byte, long>(src); for (int i = 0; i < s.Length; i++) dst[i] = s[i]; break; }
            case DType.I32: { var s = MemoryMarshal.Cast<byte, int>(src); for (int i = 0; i < s.Length; i++) dst[i] = s[i]; break; }
            case DType.U8 or DType.Bool: for (int i = 0; i < src.Length; i++) dst[i] = src[i]; break;
            default: throw new ArgumentOutOfRangeException(nameof(dtype));
        }
    }

    /// <summary>Round to bf16 by round-to-nearest-even (what PyTorch does).</summary>
    public static ushort ToBFloat16(float f)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
