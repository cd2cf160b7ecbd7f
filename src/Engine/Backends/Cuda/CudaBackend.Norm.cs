using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Elements per GroupNorm piece: a group is split so the pieces fill the GPU (see kernels/norm.cu).</summary>
    private const long GroupNormPiece = 16384;

    public Tensor GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, bool silu) =>
        GroupNormCore(x, null, groups, gamma, beta, eps, silu);

    public Tensor GroupNormAdd(Tensor x, Tensor add, int groups, Tensor gamma, Tensor beta, float eps, bool silu)
    {
        ShapeRules.GroupNormAdd(x, add);
        return GroupNormCore(x, add, groups, gamma, beta, eps, silu);
    }

    /// <summary>
    /// Two launches whatever the size: per-piece statistics, then merge + normalise (+ SiLU), with the optional
    /// per-(batch, channel) add applied as x is read in both, so x + add is never stored.
    /// </summary>
    private Tensor GroupNormCore(Tensor x, Tensor? add, int groups, Tensor gamma, Tensor beta, float eps, bool silu)
    {
        ShapeRules.GroupNorm(x, groups, gamma, beta);
        int n = x.Dim(0), c = x.Dim(1);
        long spatial = x.Count / ((long)n * c);
        int cpg = c / groups;
        long len = cpg * spatial;
        if (len > int.MaxValue - 8) throw new ArgumentException($"GroupNorm: a group of {len} elements; the kernels index fewer than 2^31");
        var y = New((int[])x.Shape.Clone());
        if (y.Count == 0) return y;
        int chunks = (int)Math.Clamp((len + GroupNormPiece - 1) / GroupNormPiece, 1, 256);
        int piece = (int)((len + chunks - 1) / chunks + 7) / 8 * 8;
        chunks = (int)((len + piece - 1) / piece);
        uint rows = (uint)(n * groups);
        var partial = Scratch(8L * rows * chunks);
        try
        {
            var grid = new Grid((uint)chunks, 256, Y: rows);
            ulong px = Own(x).Ptr, pa = add is null ? 0 : Own(add).Ptr;
            var sp = FastDivmod.For((int)spatial);
            Launch(new LdGnStats(px, pa, partial.Ptr, (int)len, sp, piece, chunks, groups, cpg, c), grid);
            Launch(new LdGnApply(px, pa, y.Ptr, partial.Ptr, Own(gamma).Ptr, Own(beta).Ptr, (int)len, sp, piece, chunks, groups, cpg, c, eps, silu ? 1 : 0), grid);
        }
        finally { partial.Release(); }
        return y;
    }

    public Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps)
    {
        ShapeRules.LayerNorm(x, gamma, beta);
        int n = x.Dim(-1);
        long rows = x.Count / Math.Max(1, n);
        var y = New((int[])x.Shape.Clone());
        // Rows that are whole slots of 8 get a thread per slot (≤ 256, up to 4 slots a thread: held in registers).
        uint block = n % 8 == 0 ? RowBlock(n / 8) : RowBlock(n);
        Launch(new LdLayernorm(Own(x).Ptr, y.Ptr, Own(gamma).Ptr, Own(beta).Ptr, n, eps), new Grid((uint)rows, block));
        return y;
    }

    public Tensor Softmax(Tensor x)
    {
        ShapeRules.Softmax(x);
        int n = x.Dim(-1);
        long rows = x.Count / Math.Max(1, n);
        var y = New((int[])x.Shape.Clone());
        Launch(new LdSoftmax(Own(x).Ptr, y.Ptr, n), new Grid((uint)rows, RowBlock(n)));
        return y;
    }

    /// <summary>Threads for a one-block-per-row kernel: a multiple of 32 up to 256, no more than the row needs.</summary>
    private static uint RowBlock(int n) => (uint)Math.Clamp((n + 31) / 32 * 32, 32, 256);
}
