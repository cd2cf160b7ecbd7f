using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// fp32 GEMM in the "NT" form C[i, j] = Σk A[i, k]·B[j, k] (+ bias[j]): both operands are read along
/// contiguous rows, so one kernel serves linear layers (x·Wᵀ), convolutions (W·colᵀ) and attention (Q·Kᵀ).
/// Where Vector256 is accelerated every product runs as register-tiled outer products (<see cref="GemmOuter"/>);
/// elsewhere as dot products in a 4×4 register tile over a K block of 512, rows of C split across threads.
/// </summary>
internal static class Gemm
{
    private const int KBlock = 512;
    private const int MacsPerWorkUnit = 8;

    public static void NT(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        ReadOnlySpan<float> bias = default, bool accumulate = false)
    {
        if (m == 0 || n == 0) return;
        // Every product runs as outer products (GemmOuter) wherever Vector256 is there, whatever its row count: a row's
        // result must not depend on how many rows share the call (batched and one-at-a-time passes agree bit for bit).
        // The dot-product kernel below is the fallback without Vector256.
        if (Vector256.IsHardwareAccelerated)
        {
            GemmOuter.NT(a, b, c, m, n, k, bias, accumulate);
            return;
        }
        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c, pbias = bias)
            {
                nint A = (nint)pa, B = (nint)pb, C = (nint)pc, Bias = bias.IsEmpty ? 0 : (nint)pbias;
                int tilesI = (m + 3) / 4, tilesJ = (n + 3) / 4;
                // Split the larger tile dimension across threads, in chunks of at least ~256K multiply-adds
                // (a vectorised MAC costs far less than the loop's elementary operation); tiny products run inline.
                if (tilesI >= tilesJ)
                    CpuParallel.For(tilesI, 4L * n * k / MacsPerWorkUnit, (t0, t1) =>
                    {
                        for (int ti = t0; ti < t1; ti++) Rows(A, B, C, Bias, m, n, k, ti * 4, 0, n, accumulate);
                    });
                else
                    CpuParallel.For(tilesJ, 4L * m * k / MacsPerWorkUnit, (t0, t1) =>
                    {
                        int j0 = t0 * 4, j1 = Math.Min(n, t1 * 4);
                        for (int ti = 0; ti < tilesI; ti++) Rows(A, B, C, Bias, m, n, k, ti * 4, j0, j1, accumulate);
                    });
            }
        }
    }

    private static unsafe void Rows(nint A, nint B, nint C, nint Bias, int m, int n, int k, int i0, int j0, int j1, bool accumulate)
    {
        float* a = (float*)A, b = (float*)B, c = (float*)C, bias = (float*)Bias;
        int rows = Math.Min(4, m - i0);
        float* acc = stackalloc float[16];
        for (int j = j0; j < j1; j += 4)
        {
            int cols = Math.Min(4, j1 - j);
            for (int t = 0; t < 16; t++) acc[t] = 0f;
            for (int kb = 0; kb < k; kb += KBlock)
            {
                int kl = Math.Min(KBlock, k - kb);
                if (rows == 4 && cols == 4) Tile4x4(a + (long)i0 * k + kb, b + (long)j * k + kb, k, kl, acc);
                else TileAny(a + (long)i0 * k + kb, b + (long)j * k + kb, k, kl, rows, cols, acc);
            }
            for (int r = 0; r < rows; r++)
            {
                float* crow = c + (long)(i0 + r) * n + j;
                for (int q = 0; q < cols; q++)
                {
                    float v = acc[r * 4 + q];
                    if (bias != null) v += bias[j + q];
                    crow[q] = accumulate ? crow[q] + v : v;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Tile4x4(float* a, float* b, int ld, int kl, float* acc)
    {
        Vector256<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector256<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector256<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector256<float> c30 = default, c31 = default, c32 = default, c33 = default;
        float* a0 = a, a1 = a + ld, a2 = a + 2 * ld, a3 = a + 3 * ld;
        float* b0 = b, b1 = b + ld, b2 = b + 2 * ld, b3 = b + 3 * ld;
        int kk = 0;
        for (; kk + 8 <= kl; kk += 8)
        {
            var x0 = Vector256.Load(a0 + kk); var x1 = Vector256.Load(a1 + kk);
            var x2 = Vector256.Load(a2 + kk); var x3 = Vector256.Load(a3 + kk);
            var y = Vector256.Load(b0 + kk);
            c00 = Vector256.FusedMultiplyAdd(x0, y, c00); c10 = Vector256.FusedMultiplyAdd(x1, y, c10);
            c20 = Vector256.FusedMultiplyAdd(x2, y, c20); c30 = Vector256.FusedMultiplyAdd(x3, y, c30);
            y = Vector256.Load(b1 + kk);
            c01 = Vector256.FusedMultiplyAdd(x0, y, c01); c11 = Vector256.FusedMultiplyAdd(x1, y, c11);
            c21 = Vector256.FusedMultiplyAdd(x2, y, c21); c31 = Vector256.FusedMultiplyAdd(x3, y, c31);
            y = Vector256.Load(b2 + kk);
            c02 = Vector256.FusedMultiplyAdd(x0, y, c02); c12 = Vector256.FusedMultiplyAdd(x1, y, c12);
            c22 = Vector256.FusedMultiplyAdd(x2, y, c22); c32 = Vector256.FusedMultiplyAdd(x3, y, c32);
            y = Vector256.Load(b3 + kk);
            c03 = Vector256.FusedMultiplyAdd(x0, y, c03); c13 = Vector256.FusedMultiplyAdd(x1, y, c13);
            c23 = Vector256.FusedMultiplyAdd(x2, y, c23); c33 = Vector256.FusedMultiplyAdd(x3, y, c33);
        }
        acc[0] += Vector256.Sum(c00); acc[1] += Vector256.Sum(c01); acc[2] += Vector256.Sum(c02); acc[3] += Vector256.Sum(c03);
        acc[4] += Vector256.Sum(c10); acc[5] += Vector256.Sum(c11); acc[6] += Vector256.Sum(c12); acc[7] += Vector256.Sum(c13);
        acc[8] += Vector256.Sum(c20); acc[9] += Vector256.Sum(c21); acc[10] += Vector256.Sum(c22); acc[11] += Vector256.Sum(c23);
        acc[12] += Vector256.Sum(c30); acc[13] += Vector256.Sum(c31); acc[14] += Vector256.Sum(c32); acc[15] += Vector256.Sum(c33);
        for (; kk < kl; kk++)
        {
            float x0 = a0[kk], x1 = a1[kk], x2 = a2[kk], x3 = a3[kk];
            float y0 = b0[kk], y1 = b1[kk], y2 = b2[kk], y3 = b3[kk];
            acc[0] += x0 * y0; acc[1] += x0 * y1; acc[2] += x0 * y2; acc[3] += x0 * y3;
            acc[4] += x1 * y0; acc[5] += x1 * y1; acc[6] += x1 * y2; acc[7] += x1 * y3;
            acc[8] += x2 * y0; acc[9] += x2 * y1; acc[10] += x2 * y2; acc[11] += x2 * y3;
            acc[12] += x3 * y0; acc[13] += x3 * y1; acc[14] += x3 * y2; acc[15] += x3 * y3;
        }
    }

    private static unsafe void TileAny(float* a, float* b, int ld, int kl, int rows, int cols, float* acc)
    {
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < cols; q++)
            {
                float* x = a + (long)r * ld, y = b + (long)q * ld;
                var s = Vector256<float>.Zero;
                int kk = 0;
                for (; kk + 8 <= kl; kk += 8) s = Vector256.FusedMultiplyAdd(Vector256.Load(x + kk), Vector256.Load(y + kk), s);
                float t = Vector256.Sum(s);
                for (; kk < kl; kk++) t += x[kk] * y[kk];
                acc[r * 4 + q] += t;
            }
    }

    /// <summary>Row-major transpose of a [rows, cols] matrix into [cols, rows].</summary>
    public static void Transpose(ReadOnlySpan<float> src, Span<float> dst, int rows, int cols)
    {
        const int T = 32;
        for (int r0 = 0; r0 < rows; r0 += T)
            for (int c0 = 0; c0 < cols; c0 += T)
            {
                int r1 = Math.Min(rows, r0 + T), c1 = Math.Min(cols, c0 + T);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++)
                        dst[c * rows + r] = src[r * cols + c];
            }
    }
}
