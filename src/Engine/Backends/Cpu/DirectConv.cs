using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// Stride-1 convolution without im2col ("implicit GEMM"). Each input plane is copied once into a zero-padded
/// plane of width Wp = W + 2·pad; output position (oy, ox) is then flat index q = oy·Wp + ox, and tap (c, ky, kx)
/// reads the padded plane at q + c·S + ky·Wp + kx: for every tap, consecutive q read consecutive floats. So
/// out[o, q] = Σ_k W[o, k]·P[off_k + q] is a plain GEMM whose B operand rows are shifted views of the padded
/// input. The kernel holds a tile of output channels × positions in registers and broadcasts the weights: 8 × 32
/// (16 Vector512 accumulators) where AVX-512 is there, else 4 × 16 (8 Vector256); positions q with ox ≥ Wo (the right
/// padding columns) are computed and dropped.
/// Each output is the same fp32 fused multiply-add chain on either tile: taps in (c, ky, kx) order, summed in blocks
/// of <see cref="TapBlock"/> whose sums are added in order, so both tile shapes give bit-identical results.
/// </summary>
internal static unsafe class DirectConv
{
    private const int BlockQ = 256;

    /// <summary>The register tile: output channels × positions.</summary>
    private readonly record struct TileShape(int O, int Q, bool Wide)
    {
        public static TileShape Best => Vector512.IsHardwareAccelerated ? new(8, 32, true) : new(4, 16, false);
    }

    public static void Run(float[] x, float[] weight, float[]? bias, float[] y, int n, int ci, int h, int w, int co, int kh, int kw, int pad) =>
        Run(x, weight, bias, y, n, ci, h, w, co, kh, kw, pad, TileShape.Best);

    /// <summary>The 4 × 16 Vector256 tile even where AVX-512 is there (tests compare the two shapes bit for bit).</summary>
    internal static void RunNarrow(float[] x, float[] weight, float[]? bias, float[] y, int n, int ci, int h, int w, int co, int kh, int kw, int pad) =>
        Run(x, weight, bias, y, n, ci, h, w, co, kh, kw, pad, new TileShape(4, 16, false));

    private static void Run(float[] x, float[] weight, float[]? bias, float[] y, int n, int ci, int h, int w, int co, int kh, int kw, int pad, TileShape tile)
    {
        int tileO = tile.O, tileQ = tile.Q;
        int hp = h + 2 * pad, wp = w + 2 * pad, ho = hp - kh + 1, wo = wp - kw + 1;
        int q = ho * wp;                                  // flat positions over the padded width
        int qTiles = (q + tileQ - 1) / tileQ;
        int plane = hp * wp + kw + tileQ;                 // slack: the last tile reads past hp·wp
        int taps = ci * kh * kw, oTiles = (co + tileO - 1) / tileO;

        var packed = Pack(weight, co, taps, tileO);
        var offsets = new int[taps];
        for (int c = 0, k = 0; c < ci; c++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, k++)
                    offsets[k] = c * plane + ky * wp + kx;

        var padded = new float[ci * plane];
        int qBlocks = (qTiles * tileQ + BlockQ - 1) / BlockQ;
        // Enough tasks for every core even on small images: split the output channels too.
        int oGroups = Math.Clamp(Environment.ProcessorCount * 4 / qBlocks, 1, oTiles);
        long workPerTask = (long)taps * Math.Min(q, BlockQ) * tileO * ((oTiles + oGroups - 1) / oGroups);
        var geometry = new Geometry(q, wp, wo, ho, co);

        for (int b = 0; b < n; b++)
        {
            Pad(x.AsSpan(b * ci * h * w, ci * h * w), padded, ci, h, w, pad, wp, plane);
            int yBase = b * co * ho * wo;
            fixed (float* pP = padded, pW = packed, pY = y)
            fixed (int* pOff = offsets)
            {
                nint P = (nint)pP, W = (nint)pW, Y = (nint)pY, Off = (nint)pOff;
                CpuParallel.For(qBlocks * oGroups, workPerTask, (t0, t1) =>
                {
                    float* acc = stackalloc float[tileO * tileQ];
                    for (int t = t0; t < t1; t++)
                    {
                        int qb = t / oGroups, og = t % oGroups;
                        int ot0 = (int)((long)oTiles * og / oGroups), ot1 = (int)((long)oTiles * (og + 1) / oGroups);
                        int tq0 = qb * BlockQ / tileQ, tq1 = Math.Min(qTiles, (qb + 1) * BlockQ / tileQ);
                        for (int ot = ot0; ot < ot1; ot++)
                            for (int tq = tq0; tq < tq1; tq++)
                            {
                                int q0 = tq * tileQ;
                                Tile(tile, (float*)P + q0, (int*)Off, (float*)W + (long)ot * taps * tileO, taps, acc);
                                Store(acc, tileO, tileQ, (float*)Y + yBase, bias, ot * tileO, q0, geometry);
                            }
                    }
                });
            }
        }
    }

    /// <summary>
    /// Weights as [oTile][tap][tileO], so a tile's weights for one tap are adjacent; missing rows are zero. One
    /// weight row at a time through pointers, without a division and bounds checks per element: at the UNet's small
    /// latents this copy, made on every call, costs a good part of the product.
    /// </summary>
    private static float[] Pack(float[] weight, int co, int taps, int tileO)
    {
        int oTiles = (co + tileO - 1) / tileO;
        var packed = new float[oTiles * taps * tileO];
        fixed (float* pw = weight, pp = packed)
            for (int ot = 0; ot < oTiles; ot++)
            {
                int rows = Math.Min(tileO, co - ot * tileO);
                float* dst = pp + (long)ot * taps * tileO;
                for (int r = 0; r < rows; r++)
                {
                    float* src = pw + (long)(ot * tileO + r) * taps;
                    for (int k = 0; k < taps; k++) dst[k * tileO + r] = src[k];
                }
            }
        return packed;
    }

    private static void Pad(ReadOnlySpan<float> x, float[] padded, int ci, int h, int w, int pad, int wp, int plane)
    {
        if (pad > 0) Array.Clear(padded);
        for (int c = 0; c < ci; c++)
            for (int r = 0; r < h; r++)
                x.Slice((c * h + r) * w, w).CopyTo(padded.AsSpan(c * plane + (r + pad) * wp + pad, w));
    }

    /// <summary>
    /// One tile over all taps. Taps are summed in blocks of <see cref="TapBlock"/> in registers and the block sums
    /// added up in memory, which keeps the rounding error near the GEMM path's instead of growing with one long chain
    /// over thousands of taps.
    /// </summary>
    private static void Tile(TileShape tile, float* p, int* offsets, float* wk, int taps, float* acc)
    {
        for (int k0 = 0; k0 < taps; k0 += TapBlock)
        {
            int k1 = Math.Min(taps, k0 + TapBlock);
            if (tile.Wide) TileBlock8x32(p, offsets, wk, k0, k1, acc, accumulate: k0 > 0);
            else TileBlock(p, offsets, wk, k0, k1, acc, accumulate: k0 > 0);
        }
    }

    private const int TapBlock = 32;

    /// <summary>The 4 × 16 tile: per tap, two 8-float loads, four broadcast weights, eight FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileBlock(float* p, int* offsets, float* wk, int k0, int k1, float* acc, bool accumulate)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        for (int k = k0; k < k1; k++)
        {
            float* src = p + offsets[k];
            var x0 = Vector256.Load(src);
            var x1 = Vector256.Load(src + 8);
            float* wt = wk + k * 4;
            var w0 = Vector256.Create(wt[0]);
            a00 = Vector256.FusedMultiplyAdd(w0, x0, a00); a01 = Vector256.FusedMultiplyAdd(w0, x1, a01);
            var w1 = Vector256.Create(wt[1]);
            a10 = Vector256.FusedMultiplyAdd(w1, x0, a10); a11 = Vector256.FusedMultiplyAdd(w1, x1, a11);
            var w2 = Vector256.Create(wt[2]);
            a20 = Vector256.FusedMultiplyAdd(w2, x0, a20); a21 = Vector256.FusedMultiplyAdd(w2, x1, a21);
            var w3 = Vector256.Create(wt[3]);
            a30 = Vector256.FusedMultiplyAdd(w3, x0, a30); a31 = Vector256.FusedMultiplyAdd(w3, x1, a31);
        }
        if (accumulate)
        {
            a00 += Vector256.Load(acc); a01 += Vector256.Load(acc + 8);
            a10 += Vector256.Load(acc + 16); a11 += Vector256.Load(acc + 24);
            a20 += Vector256.Load(acc + 32); a21 += Vector256.Load(acc + 40);
            a30 += Vector256.Load(acc + 48); a31 += Vector256.Load(acc + 56);
        }
        a00.Store(acc); a01.Store(acc + 8);
        a10.Store(acc + 16); a11.Store(acc + 24);
        a20.Store(acc + 32); a21.Store(acc + 40);
        a30.Store(acc + 48); a31.Store(acc + 56);
    }

    /// <summary>The 8 × 32 tile: per tap, two 16-float loads, eight broadcast weights, sixteen FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileBlock8x32(float* p, int* offsets, float* wk, int k0, int k1, float* acc, bool accumulate)
    {
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        Vector512<float> a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
        for (int k = k0; k < k1; k++)
        {
            float* src = p + offsets[k];
            var x0 = Vector512.Load(src);
            var x1 = Vector512.Load(src + 16);
            float* wt = wk + k * 8;
            var w = Vector512.Create(wt[0]); a00 = Vector512.FusedMultiplyAdd(w, x0, a00); a01 = Vector512.FusedMultiplyAdd(w, x1, a01);
            w = Vector512.Create(wt[1]); a10 = Vector512.FusedMultiplyAdd(w, x0, a10); a11 = Vector512.FusedMultiplyAdd(w, x1, a11);
            w = Vector512.Create(wt[2]); a20 = Vector512.FusedMultiplyAdd(w, x0, a20); a21 = Vector512.FusedMultiplyAdd(w, x1, a21);
            w = Vector512.Create(wt[3]); a30 = Vector512.FusedMultiplyAdd(w, x0, a30); a31 = Vector512.FusedMultiplyAdd(w, x1, a31);
            w = Vector512.Create(wt[4]); a40 = Vector512.FusedMultiplyAdd(w, x0, a40); a41 = Vector512.FusedMultiplyAdd(w, x1, a41);
            w = Vector512.Create(wt[5]); a50 = Vector512.FusedMultiplyAdd(w, x0, a50); a51 = Vector512.FusedMultiplyAdd(w, x1, a51);
            w = Vector512.Create(wt[6]); a60 = Vector512.FusedMultiplyAdd(w, x0, a60); a61 = Vector512.FusedMultiplyAdd(w, x1, a61);
            w = Vector512.Create(wt[7]); a70 = Vector512.FusedMultiplyAdd(w, x0, a70); a71 = Vector512.FusedMultiplyAdd(w, x1, a71);
        }
        if (accumulate)
        {
            a00 += Vector512.Load(acc); a01 += Vector512.Load(acc + 16); a10 += Vector512.Load(acc + 32); a11 += Vector512.Load(acc + 48);
            a20 += Vector512.Load(acc + 64); a21 += Vector512.Load(acc + 80); a30 += Vector512.Load(acc + 96); a31 += Vector512.Load(acc + 112);
            a40 += Vector512.Load(acc + 128); a41 += Vector512.Load(acc + 144); a50 += Vector512.Load(acc + 160); a51 += Vector512.Load(acc + 176);
            a60 += Vector512.Load(acc + 192); a61 += Vector512.Load(acc + 208); a70 += Vector512.Load(acc + 224); a71 += Vector512.Load(acc + 240);
        }
        a00.Store(acc); a01.Store(acc + 16); a10.Store(acc + 32); a11.Store(acc + 48);
        a20.Store(acc + 64); a21.Store(acc + 80); a30.Store(acc + 96); a31.Store(acc + 112);
        a40.Store(acc + 128); a41.Store(acc + 144); a50.Store(acc + 160); a51.Store(acc + 176);
        a60.Store(acc + 192); a61.Store(acc + 208); a70.Store(acc + 224); a71.Store(acc + 240);
    }

    /// <summary>Output geometry: flat positions over the padded width, padded width, output width and height, channels.</summary>
    private readonly record struct Geometry(int Q, int Wp, int Wo, int Ho, int Co);

    /// <summary>
    /// Writes the valid positions of one tile (ox &lt; Wo, q &lt; Q) with the bias added: the tile's positions fall
    /// into runs within one output row, each written as a span.
    /// </summary>
    private static void Store(float* acc, int tileO, int tileQ, float* y, float[]? bias, int o0, int q0, Geometry g)
    {
        int rows = Math.Min(tileO, g.Co - o0);
        int end = Math.Min(tileQ, g.Q - q0);
        for (int j = 0; j < end;)
        {
            int qq = q0 + j, oy = qq / g.Wp, ox = qq - oy * g.Wp;
            if (ox >= g.Wo) { j += g.Wp - ox; continue; }          // the padding columns
            int run = Math.Min(end - j, g.Wo - ox);
            for (int r = 0; r < rows; r++)
            {
                int o = o0 + r;
                AddBias(acc + r * tileQ + j, y + ((long)o * g.Ho + oy) * g.Wo + ox, run, bias is null ? 0f : bias[o]);
            }
            j += run;
        }
    }

    /// <summary>dst[i] = src[i] + bias: 8 at a time, then the rest (inline: a tile's rows are short).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddBias(float* src, float* dst, int count, float bias)
    {
        var b = Vector256.Create(bias);
        int i = 0;
        for (; i + 8 <= count; i += 8) (Vector256.Load(src + i) + b).Store(dst + i);
        for (; i < count; i++) dst[i] = src[i] + bias;
    }
}
