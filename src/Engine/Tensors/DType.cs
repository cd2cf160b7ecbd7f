namespace LayerDiffusion.Native.Tensors;

/// <summary>Element types a safetensors file may hold.</summary>
public enum DType { F16, BF16, F32, F64, I64, I32, U8, Bool }

public static class DTypes
{
    public static int Size(DType t) => t switch
    {
        DType.F16 or DType.BF16 => 2,
        DType.F32 or DType.I32 => 4,
        DType.F64 or DType.I64 => 8,
        DType.U8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static bool TryParse(string s, out DType t)
    {
        switch (s)
        {
            case "F16": t = DType.F16; return true;
            case "BF16": t = DType.BF16; return true;
            case "F32": t = DType.F32; return true;
            case "F64": t = DType.F64; return true;
            case "I64": t = DType.I64; return true;
            case "I32": t = DType.I32; return true;
            case "U8": t = DType.U8; return true;
            case "BOOL": t = DType.Bool; return true;
            default: t = default; return false;
        }
    }

    public static string Name(DType t) => t switch
    {
        DType.Bool => "BOOL",
        _ => t.ToString().ToUpperInvariant(),
    };

    public static bool IsFloat(DType t) => t is DType.F16 or DType.BF16 or DType.F32 or DType.F64;
}
