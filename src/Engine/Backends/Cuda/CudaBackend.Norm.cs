using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Elements per GroupNorm piece: a group is split so the pieces fill the GPU (see kernels/norm.cu).</summary>
    private const long GroupNormPiece = 16384;

    public Tensor GroupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps, bool silu)
    {
        int n = x.Dim(0), c = x.Dim(1);
        if (groups <= 0 || c % groups != 0) throw new ArgumentException($"GroupNorm: {c} channels not divisible by {groups} groups");
        if (gamma.Count != c || beta.Count != c) throw new ArgumentException($"GroupNorm: gamma/beta of {gamma.Count}/{beta.Count} for {c} channels");
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
            var grid = new Grid((uint)chunks, 256, Y: rows);
            ulong px = Own(x).Ptr;
            Launch(new LdGnStats(px, partial.Ptr, len, chunks), grid);
            Launch(new LdGnApply(px, y.Ptr, partial.Ptr, Own(gamma).Ptr, Own(beta).Ptr, len, chunks, groups, cpg, spatial, eps, silu ? 1 : 0), grid);
        }
        finally { partial.Release(); }
        return y;
    }

    public Tensor LayerNorm(Tensor x, Tensor gamma, Tensor beta, float eps)
    {
        int n = x.Dim(-1);
        if (gamma.Count != n || beta.Count != n) throw new ArgumentException($"LayerNorm: gamma/beta of {gamma.Count}/{beta.Count} for width {n}");
        long rows = x.Count / Math.Max(1, n);
        var y = New((int[])x.Shape.Clone());
        Launch(new LdLayernorm(Own(x).Ptr, y.Ptr, Own(gamma).Ptr, Own(beta).Ptr, n, eps), new Grid((uint)rows, RowBlock(n)));
        return y;
    }

    public Tensor Softmax(Tensor x)
    {
        int n = x.Dim(-1);
        long rows = x.Count / Math.Max(1, n);
        var y = New((int[])x.Shape.Clone());
        Launch(new LdSoftmax(Own(x).Ptr, y.Ptr, n), new Grid((uint)rows, RowBlock(n)));
        return y;
    }

    /// <summary>Threads for a one-block-per-row kernel: a multiple of 32 up to 256, no more than the row needs.</summary>
    private static uint RowBlock(int n) => (uint)Math.Clamp((n + 31) / 32 * 32, 32, 256);
}
