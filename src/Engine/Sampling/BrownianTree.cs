using LayerDiffusion.Native.Random;

namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// One seeded Brownian motion W(t) on [t0, t1] with W(t0) = 0, for a vector of independent elements, queried at
/// arbitrary times reproducibly (the role torchsde's BrownianTree plays for DPM++ SDE samplers; not bit-compatible
/// with it).
/// </summary>
/// <remarks>
/// W(t1) ~ N(0, t1 − t0). A query bisects [t0, t1] down to t: each midpoint m of [a, b] is drawn from the Brownian
/// bridge, W(m) = (W(a) + W(b))/2 + √((b − a)/4)·N, with N taken from Philox keyed by the seed and counted by the
/// node's heap index, so every path through the tree sees the same values whatever the order of queries. Once the
/// interval is narrower than the tolerance the value is interpolated linearly (the residual variance is below
/// tolerance/4).
/// </remarks>
internal sealed class BrownianTree
{
    private const uint NoiseStream = 0x42524F57; // "BROW": keeps these counters apart from torch-style draws
    private const int MaxDepth = 60;

    private readonly ulong _seed;
    private readonly double _t0, _t1, _tolerance;
    private readonly double[] _w1;

    public BrownianTree(long seed, int size, double t0, double t1, double tolerance = 1e-6)
    {
        if (!(t1 > t0)) throw new ArgumentException($"need t0 < t1 (got {t0}, {t1})");
        _seed = unchecked((ulong)seed);
        _t0 = t0;
        _t1 = t1;
        _tolerance = tolerance;
        Size = size;
        _w1 = new double[size];
        Normals(0, _w1);
        double scale = Math.Sqrt(t1 - t0);
        for (int i = 0; i < size; i++) _w1[i] *= scale;
    }

    public int Size { get; }
    public double T0 => _t0;
    public double T1 => _t1;

    /// <summary>W(t) for t in [t0, t1] (clamped).</summary>
    public double[] ValueAt(double t)
    {
        var wa = new double[Size];
        var wb = (double[])_w1.Clone();
        var z = new double[Size];
        var wm = new double[Size];
        double a = _t0, b = _t1;
        if (t <= a) return wa;
        if (t >= b) return wb;
        ulong node = 1;
        for (int depth = 0; depth < MaxDepth && b - a > _tolerance; depth++)
        {
            double m = 0.5 * (a + b);
            Normals(node, z);
            double sd = Math.Sqrt((b - a) / 4);
            for (int i = 0; i < Size; i++) wm[i] = 0.5 * (wa[i] + wb[i]) + sd * z[i];
            if (Math.Abs(t - m) <= _tolerance * 0.5) return wm;
            if (t < m) { b = m; (wb, wm) = (wm, wb); node = 2 * node; }
            else { a = m; (wa, wm) = (wm, wa); node = 2 * node + 1; }
        }
        double w = (t - a) / (b - a);
        for (int i = 0; i < Size; i++) wa[i] += w * (wb[i] - wa[i]);
        return wa;
    }

    /// <summary>Standard normals for one tree node: Philox(counter = node, element group, stream; key = seed), Box–Muller in double.</summary>
    private void Normals(ulong node, double[] dst)
    {
        int groups = (dst.Length + 3) / 4;
        Parallel.For(0, groups, g =>
        {
            var r = Philox.Block((uint)node, (uint)(node >> 32), (uint)g, NoiseStream, (uint)_seed, (uint)(_seed >> 32));
            var (n0, n1) = BoxMuller(r.X, r.Y);
            var (n2, n3) = BoxMuller(r.Z, r.W);
            int i = 4 * g;
            dst[i] = n0;
            if (i + 1 < dst.Length) dst[i + 1] = n1;
            if (i + 2 < dst.Length) dst[i + 2] = n2;
            if (i + 3 < dst.Length) dst[i + 3] = n3;
        });
    }

    private static (double, double) BoxMuller(uint x, uint y)
    {
        const double inv = 1.0 / 4294967296.0;
        double u = (x + 0.5) * inv, v = (y + 0.5) * inv;
        double r = Math.Sqrt(-2.0 * Math.Log(u));
        var (s, c) = Math.SinCos(2.0 * Math.PI * v);
        return (r * c, r * s);
    }
}
