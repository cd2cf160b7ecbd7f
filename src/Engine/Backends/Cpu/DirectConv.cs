using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// Stride-1 convolution without im2col ("implicit GEMM"). Each input plane is copied once into a zero-padded
/// plane of width Wp = W + 2·pad; output position (oy, ox) is then flat index q = oy·Wp + ox, and tap (c, ky, kx)
/// reads the padded plane at q + c·S + ky·Wp + kx: for every tap, consecutive q read consecutive floats. So
/// out[o, q] = Σ_k W[o, k]·P[off_k + q] is a plain GEMM whose B operand rows are shifted views of the padded
/// input. The kernel holds a 4 (out channels) × 16 (positions) tile in registers and broadcasts the weights;
/// positions q with ox ≥ Wo (the right padding columns) are computed and dropped.
/// Each output is an fp32 fused multiply-add chain over blocks of taps in (c, ky, kx) order.
/// </summary>
internal static unsafe class DirectConv
{
    private const int TileO = 4, TileQ = 16, BlockQ = 256;

    public static void Run(float[] x, float[] weight, float[]? bias, float[] y, int n, int ci, int h, int w, int co, int kh, int kw, int pad)
    {
        int hp = h + 2 * pad, wp = w + 2 * pad, ho = hp - kh + 1, wo = wp - kw + 1;
        int q = ho * wp;                                  // flat positions over the padded width
        int qTiles = (q + TileQ - 1) / TileQ;
        int plane = hp * wp + kw + TileQ;                 // slack: the last tile reads past hp·wp
        int taps = ci * kh * kw, oTiles = (co + TileO - 1) / TileO;

        // Weights as [oTile][tap][4] so a tile's four weights for one tap are adjacent; missing rows are zero.
        var packed = new float[oTiles * taps * TileO];
        for (int o = 0; o < co; o++)
            for (int k = 0; k < taps; k++)
                packed[((o / TileO) * taps + k) * TileO + o % TileO] = weight[o * taps + k];
        var offsets = new int[taps];
        for (int c = 0, k = 0; c < ci; c++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, k++)
                    offsets[k] = c * plane + ky * wp + kx;

        var padded = new float[ci * plane];
        int qBlocks = (qTiles * TileQ + BlockQ - 1) / BlockQ;
        // Enough tasks for every core even on small images: split the output channels too.
        int oGroups = Math.Clamp(Environment.ProcessorCount * 4 / qBlocks, 1, oTiles);
        long workPerTask = (long)taps * Math.Min(q, BlockQ) * TileO * ((oTiles + oGroups - 1) / oGroups);

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
                    float* acc = stackalloc float[TileO * TileQ];
                    for (int t = t0; t < t1; t++)
                    {
                        int qb = t / oGroups, og = t % oGroups;
                        int ot0 = (int)((long)oTiles * og / oGroups), ot1 = (int)((long)oTiles * (og + 1) / oGroups);
                        int tq0 = qb * BlockQ / TileQ, tq1 = Math.Min(qTiles, (qb + 1) * BlockQ / TileQ);
                        for (int ot = ot0; ot < ot1; ot++)
                            for (int tq = tq0; tq < tq1; tq++)
                            {
                                int q0 = tq * TileQ;
                                Tile((float*)P + q0, (int*)Off, (float*)W + (long)ot * taps * TileO, taps, acc);
                                Store(acc, (float*)Y + yBase, bias, ot * TileO, co, q0, q, wp, wo, ho);
                            }
                    }
                });
            }
        }
    }

    private static void Pad(ReadOnlySpan<float> x, float[] padded, int ci, int h, int w, int pad, int wp, int plane)
    {
        if (pad > 0) Array.Clear(padded);
        for (int c = 0; c < ci; c++)
            for (int r = 0; r < h; r++)
                x.Slice((c * h + r) * w, w).CopyTo(padded.AsSpan(c * plane + (r + pad) * wp + pad, w));
    }

    /// <summary>
    /// One 4 × 16 tile over all taps. Taps are summed in blocks of <see cref="TapBlock"/> in registers and the
    /// block sums added up in memory, which keeps the rounding error near the GEMM path's instead of growing
    /// with one long chain over thousands of taps.
    /// </summary>
    private static void Tile(float* p, int* offsets, float* wk, int taps, float* acc)
    {
        TileBlock(p, offsets, wk, 0, Math.Min(TapBlock, taps), acc, accumulate: false);
        for (int k0 = TapBlock; k0 < taps; k0 += TapBlock)
            TileBlock(p, offsets, wk, k0, Math.Min(taps, k0 + TapBlock), acc, accumulate: true);
    }

    private const int TapBlock = 32;

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
            float* wt = wk + k * TileO;
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

    /// <summary>Writes the valid positions of one tile (ox &lt; Wo, q &lt; Q) with the bias added.</summary>
    private static void Store(float* acc, float* y, float[]? bias, int o0, int co, int q0, int q, int wp, int wo, int ho)
    {
        int rows = Math.Min(TileO, co - o0);
        for (int j = 0; j < TileQ; j++)
        {
            int qq = q0 + j;
            if (qq >= q) break;
            int oy = qq / wp, ox = qq - oy * wp;
            if (ox >= wo) continue;
            for (int r = 0; r < rows; r++)
            {
                int o = o0 + r;
                y[((long)o * ho + oy) * wo + ox] = acc[r * TileQ + j] + (bias is null ? 0f : bias[o]);
            }
        }
    }
}
