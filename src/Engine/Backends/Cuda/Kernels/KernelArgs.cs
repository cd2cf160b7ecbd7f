using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda.Kernels;

/// <summary>
/// The typed signature of one kernel family of kernels/*.cu: a struct whose fields are the kernel's parameters, in
/// order and of the matching types (<see cref="DevPtr"/> for any pointer, long for long long, int, float, ulong for
/// unsigned long long, or a struct laid out like the kernel's). <see cref="CudaBackend.Launch{T}(in T, Grid)"/>
/// hands the driver a pointer to each field, at the offsets the kernel's PTX declares.
/// tests/Cuda/KernelSignatureTests checks every such struct against the .cu source, and that every kernel has one.
/// </summary>
internal interface IKernelArgs
{
    /// <summary>The kernel's extern "C" name (one per storage type or element size for a family).</summary>
    static abstract KernelName Kernel { get; }
}

/// <summary>A device address as a kernel parameter (any pointer type in the .cu signature).</summary>
internal readonly record struct DevPtr(ulong Address)
{
    public static implicit operator DevPtr(ulong address) => new(address);
    public static readonly DevPtr Null = new(0);
}

/// <summary>Launch geometry: grid (X, Y, Z) of blocks of <see cref="Block"/> threads (1-D blocks only).</summary>
internal readonly record struct Grid(uint X, uint Block, uint Y = 1, uint Z = 1, uint SharedBytes = 0);

/// <summary>Which instantiations of a kernel exist, and how one is chosen.</summary>
internal enum KernelFamily
{
    /// <summary>One kernel, no suffix choice.</summary>
    Single,
    /// <summary>_f32, _f16, _bf16 (LD_FOR_TYPES), chosen by the storage dtype.</summary>
    StorageTypes,
    /// <summary>_f16, _bf16 only (the tensor-core kernels), chosen by the storage dtype.</summary>
    HalfTypes,
    /// <summary>_u16, _u32 (LD_FOR_SIZES: pure data movement), chosen by the storage dtype's size.</summary>
    ElementSizes,
    /// <summary>{s}_{d} for every pair of storage types (casts), chosen by source and destination dtype.</summary>
    TypePairs,
}

/// <summary>
/// A kernel's name, or its family's names: <c>{t}</c> in the pattern stands for the storage type or element size,
/// <c>{s}</c> and <c>{d}</c> for the source and destination types of a cast. Names are built once, so launching
/// allocates nothing.
/// </summary>
internal sealed class KernelName
{
    private static readonly DType[] s_types = [DType.F32, DType.F16, DType.BF16];
    private readonly string[] _names;

    public KernelName(string pattern, KernelFamily family = KernelFamily.Single)
    {
        Pattern = pattern;
        Family = family;
        _names = family switch
        {
            KernelFamily.Single => [pattern],
            KernelFamily.StorageTypes => s_types.Select(t => pattern.Replace("{t}", Suffix(t))).ToArray(),
            KernelFamily.HalfTypes => s_types.Select(t => t == DType.F32 ? "" : pattern.Replace("{t}", Suffix(t))).ToArray(),
            KernelFamily.ElementSizes => ["", pattern.Replace("{t}", "u16"), pattern.Replace("{t}", "u32")],
            KernelFamily.TypePairs => s_types.SelectMany(s => s_types.Select(d => pattern.Replace("{s}", Suffix(s)).Replace("{d}", Suffix(d)))).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(family)),
        };
    }

    public string Pattern { get; }
    public KernelFamily Family { get; }

    /// <summary>Every kernel name of the family.</summary>
    public IEnumerable<string> All => _names.Where(n => n.Length > 0);

    /// <summary>The instance for storage dtype <paramref name="t"/> (by its size for <see cref="KernelFamily.ElementSizes"/>).</summary>
    public string For(DType t)
    {
        string name = Family switch
        {
            KernelFamily.Single => _names[0],
            KernelFamily.ElementSizes => _names[DTypes.Size(t) == 2 ? 1 : 2],
            KernelFamily.StorageTypes or KernelFamily.HalfTypes => _names[Index(t)],
            _ => throw new InvalidOperationException($"{Pattern} takes a source and a destination type"),
        };
        return name.Length > 0 ? name : throw new ArgumentException($"{Pattern} has no {DTypes.Name(t)} instance");
    }

    /// <summary>The cast from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public string For(DType from, DType to) => Family == KernelFamily.TypePairs
        ? _names[Index(from) * 3 + Index(to)]
        : throw new InvalidOperationException($"{Pattern} is not a family of casts");

    private static int Index(DType t) => t switch
    {
        DType.F32 => 0,
        DType.F16 => 1,
        DType.BF16 => 2,
        _ => throw new ArgumentException($"no kernels for {DTypes.Name(t)}"),
    };

    private static string Suffix(DType t) => t switch { DType.F16 => "f16", DType.BF16 => "bf16", _ => "f32" };

    public override string ToString() => Pattern;
}
