using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Elements per GroupNorm piece: a group is split so the pieces fill the GPU (see kernels/norm.cu).</summary>
    private const long GroupNormPiece = 16384;

    public Tensor GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, bool silu)
    {
        ShapeRules.GroupNorm(x, groups, gamma, beta);
        int n = x.Dim(0), c = x.Dim(1);
        long spatial = x.Count / ((long)n * c);
        int cpg = c / groups;
        long len = cpg * spatial;
        var y = New((int[])x.Shape.Clone());
        if (y.Count == 0) return y;
        int chunks = (int)Math.Clamp((len + GroupNormPiece - 1) / GroupNormPiece, 1, 256);
        uint rows = (uint)(n * groups);
        var partial = Scratch(8L * rows * chunks);
        try
        {
            ulong px = Own(x).Ptr, pp = partial.Ptr, py = y.Ptr, pg = Own(gamma).Ptr, pb = Own(beta).Ptr;
            void** a1 = stackalloc void*[] { &px, &pp, &len, &chunks };
            Launch("ld_gn_stats_" + _sfx, (uint)chunks, 256, a1, gridY: rows);
            int fused = silu ? 1 : 0;
            void** a2 = stackalloc void*[] { &px, &py, &pp, &pg, &pb, &len, &chunks, &groups, &cpg, &spatial, &eps, &fused };
            Launch("ld_gn_apply_" + _sfx, (uint)chunks, 256, a2, gridY: rows);
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
        ulong px = Own(x).Ptr, py = y.Ptr, pg = Own(gamma).Ptr, pb = Own(beta).Ptr;
        void** args = stackalloc void*[] { &px, &py, &pg, &pb, &n, &eps };
        Launch("ld_layernorm_" + _sfx, (uint)rows, RowBlock(n), args);
        return y;
    }

    public Tensor Softmax(Tensor x)
    {
        ShapeRules.Softmax(x);
        int n = x.Dim(-1);
        long rows = x.Count / Math.Max(1, n);
        var y = New((int[])x.Shape.Clone());
        ulong px = Own(x).Ptr, py = y.Ptr;
        void** args = stackalloc void*[] { &px, &py, &n };
        Launch("ld_softmax_" + _sfx, (uint)rows, RowBlock(n), args);
        return y;
    }

    /// <summary>Threads for a one-block-per-row kernel: a multiple of 32 up to 256, no more than the row needs.</summary>
    private static uint RowBlock(int n) => (uint)Math.Clamp((n + 31) / 32 * 32, 32, 256);
}
