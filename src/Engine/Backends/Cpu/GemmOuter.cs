using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// The "NT" product C[i, j] = Σk A[i, k]·B[j, k] (+ bias[j]) as register-tiled outer products. A is copied once, transposed, into a k-major panel (Aᵀ[k][i], rows padded to the
/// tile and laid out tile by tile: [tile][k][rows of the tile]), so for each k the tile's rows of A are one
/// contiguous vector and a tile's whole panel is read sequentially; B's rows are read in place and broadcast one
/// element at a time (no copy of the weights). The tile is 8 columns × 32 rows (16 Vector512 accumulators) where
/// AVX-512 is there, else 4 × 16 (8 Vector256). Each output is an fp32 fused multiply-add chain over k in order,
/// in blocks of <see cref="KBlock"/> whose sums are added in order (the direct convolution's rounding, instead of
/// the dot-product kernel's 8-lane partial sums); both tiles give bit-identical results.
/// </summary>
internal static unsafe class GemmOuter
{
    private const int KBlock = 32;
    /// <summary>Rows of C per parallel task (its panel of Aᵀ stays in L2 while the columns sweep).</summary>
    private const int BlockRows = 128;

    private readonly record struct TileShape(int Cols, int Rows, bool Wide)
    {
        public static readonly TileShape Narrow = new(4, 16, false);

        /// <summary>The 8 × 32 tile where AVX-512 is there and the product has more rows than the narrow tile holds.</summary>
        public static TileShape For(int rows) => Vector512.IsHardwareAccelerated && rows > Narrow.Rows ? new(8, 32, true) : Narrow;
    }

    /// <summary>
    /// C = A·Bᵀ (+ bias). Both tiles sum each output in the same order, so picking the tile by the row count keeps
    /// every row's result independent of how many rows share the call.
    /// </summary>
    public static void NT(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, ReadOnlySpan<float> bias, bool accumulate) =>
        NT(a, b, c, m, n, k, bias, accumulate, TileShape.For(m));

    /// <summary>The 4 × 16 Vector256 tile even where AVX-512 is there (tests compare the two shapes bit for bit).</summary>
    internal static void NTNarrow(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, ReadOnlySpan<float> bias, bool accumulate) =>
        NT(a, b, c, m, n, k, bias, accumulate, TileShape.Narrow);

    /// <summary>Rows per panel of A in a product of <paramref name="m"/> rows (see <see cref="NTPanels"/>).</summary>
    public static int PanelRows(int m) => TileShape.For(m).Rows;

    /// <summary>
    /// C = A·Bᵀ (+ bias) with A given already as the panels <see cref="NT(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, ReadOnlySpan{float}, bool)"/>
    /// would copy it into: at[tile][kk][r] = A[tile·R + r][kk], R = <see cref="PanelRows"/>(m), rows past m zero.
    /// For a caller that builds A anyway (im2col) and can write it there directly, sparing a copy. Same results.
    /// </summary>
    public static void NTPanels(float[] at, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, ReadOnlySpan<float> bias)
    {
        if (m == 0 || n == 0) return;
        var tile = TileShape.For(m);
        int rowsPad = (m + tile.Rows - 1) / tile.Rows * tile.Rows;
        var zeros = ArrayPool<float>.Shared.Rent(k);
        try
        {
            Array.Clear(zeros, 0, k);
            Tiles(at, zeros, b, c, m, n, k, bias, false, tile, rowsPad);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(zeros);
        }
    }

    private static void NT(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, ReadOnlySpan<float> bias, bool accumulate, TileShape tile)
    {
        if (m == 0 || n == 0) return;
        int rowsPad = (m + tile.Rows - 1) / tile.Rows * tile.Rows;
        // Pooled scratch (thousands of small products per generation): the panels of Aᵀ, whose padding rows must be
        // zero, and a zero row standing in for B's rows past n in the last column tile.
        var at = ArrayPool<float>.Shared.Rent(k * rowsPad);
        var zeros = ArrayPool<float>.Shared.Rent(k);
        try
        {
            if (rowsPad != m) Array.Clear(at, (rowsPad - tile.Rows) * k, tile.Rows * k);
            Array.Clear(zeros, 0, k);
            Transpose(a, at, m, k, tile.Rows);
            Tiles(at, zeros, b, c, m, n, k, bias, accumulate, tile, rowsPad);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(at);
            ArrayPool<float>.Shared.Return(zeros);
        }
    }

    private static void Tiles(float[] at, float[] zeros, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, ReadOnlySpan<float> bias, bool accumulate,
        TileShape tile, int rowsPad)
    {
        int colTiles = (n + tile.Cols - 1) / tile.Cols;
        int rowBlocks = (rowsPad + BlockRows - 1) / BlockRows;
        // Split rows when there are enough, else columns too, so both cores have work on small products.
        int colGroups = Math.Clamp(Environment.ProcessorCount * 2 / rowBlocks, 1, colTiles);
        long workPerTask = (long)Math.Min(rowsPad, BlockRows) * k * ((n + colGroups - 1) / colGroups);
        fixed (float* pa = at, pb = b, pc = c, pbias = bias, pz = zeros)
        {
            nint A = (nint)pa, B = (nint)pb, C = (nint)pc, Bias = bias.IsEmpty ? 0 : (nint)pbias, Z = (nint)pz;
            CpuParallel.For(rowBlocks * colGroups, workPerTask, (t0, t1) =>
            {
                float* acc = stackalloc float[tile.Cols * tile.Rows];
                float** rowsOfB = stackalloc float*[tile.Cols];
                for (int t = t0; t < t1; t++)
                {
                    int rb = t / colGroups, cg = t % colGroups;
                    int ct0 = (int)((long)colTiles * cg / colGroups), ct1 = (int)((long)colTiles * (cg + 1) / colGroups);
                    int r0 = rb * BlockRows, r1 = Math.Min(rowsPad, r0 + BlockRows);
                    for (int ct = ct0; ct < ct1; ct++)
                    {
                        int j0 = ct * tile.Cols;
                        for (int q = 0; q < tile.Cols; q++)
                            rowsOfB[q] = j0 + q < n ? (float*)B + (long)(j0 + q) * k : (float*)Z;
                        for (int i0 = r0; i0 < r1; i0 += tile.Rows)
                        {
                            for (int k0 = 0; k0 < k; k0 += KBlock)
                            {
                                int k1 = Math.Min(k, k0 + KBlock);
                                float* panel = (float*)A + (long)i0 * k;   // tile i0 / rows, k × rows floats
                                if (tile.Wide) Block8x32(panel, tile.Rows, rowsOfB, k0, k1, acc, k0 > 0);
                                else Block4x16(panel, tile.Rows, rowsOfB, k0, k1, acc, k0 > 0);
                            }
                            Store(acc, tile, (float*)C, (float*)Bias, m, n, i0, j0, accumulate);
                        }
                    }
                }
            });
        }
    }

    /// <summary>
    /// Panels of Aᵀ, one per tile of <paramref name="rows"/> rows: at[tile][kk][r] = A[tile·rows + r][kk], rows past m
    /// left zero. In 8 × 8 blocks transposed in registers where AVX is there (element by element, each write a
    /// different cache line, this copy cost about as much as a narrow product itself); the edges one at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(ReadOnlySpan<float> a, float[] at, int m, int k, int rows)
    {
        fixed (float* pa = a, pt = at)
            for (int i0 = 0; i0 < m; i0 += rows)
            {
                float* panel = pt + (long)i0 * k;
                int n = Math.Min(rows, m - i0), r = 0;
                if (Avx.IsSupported)
                    for (; r + 8 <= n; r += 8)
                    {
                        float* src = pa + (long)(i0 + r) * k;
                        int kk = 0;
                        for (; kk + 8 <= k; kk += 8) Transpose8x8(src + kk, k, panel + (long)kk * rows + r, rows);
                        for (; kk < k; kk++)
                            for (int q = 0; q < 8; q++) panel[kk * rows + r + q] = src[(long)q * k + kk];
                    }
                for (; r < n; r++)
                {
                    float* src = pa + (long)(i0 + r) * k;
                    for (int kk = 0; kk < k; kk++) panel[kk * rows + r] = src[kk];
                }
            }
    }

    /// <summary>dst[j·ldDst + q] = src[q·ldSrc + j] for an 8 × 8 block (unpack, shuffle, then swap 128-bit halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int ldSrc, float* dst, int ldDst)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + ldSrc);
        var r2 = Avx.LoadVector256(src + 2 * ldSrc); var r3 = Avx.LoadVector256(src + 3 * ldSrc);
        var r4 = Avx.LoadVector256(src + 4 * ldSrc); var r5 = Avx.LoadVector256(src + 5 * ldSrc);
        var r6 = Avx.LoadVector256(src + 6 * ldSrc); var r7 = Avx.LoadVector256(src + 7 * ldSrc);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldDst, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldDst, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldDst, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldDst, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldDst, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldDst, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldDst, Avx.Permute2x128(u3, u7, 0x31));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block8x32(float* at, int ld, float** bRows, int k0, int k1, float* acc, bool accumulate)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        float* b0 = bRows[0], b1 = bRows[1], b2 = bRows[2], b3 = bRows[3], b4 = bRows[4], b5 = bRows[5], b6 = bRows[6], b7 = bRows[7];
        for (int kk = k0; kk < k1; kk++)
        {
            float* src = at + (long)kk * ld;
            var x0 = Vector512.Load(src);
            var x1 = Vector512.Load(src + 16);
            var w = Vector512.Create(b0[kk]); c00 = Vector512.FusedMultiplyAdd(w, x0, c00); c01 = Vector512.FusedMultiplyAdd(w, x1, c01);
            w = Vector512.Create(b1[kk]); c10 = Vector512.FusedMultiplyAdd(w, x0, c10); c11 = Vector512.FusedMultiplyAdd(w, x1, c11);
            w = Vector512.Create(b2[kk]); c20 = Vector512.FusedMultiplyAdd(w, x0, c20); c21 = Vector512.FusedMultiplyAdd(w, x1, c21);
            w = Vector512.Create(b3[kk]); c30 = Vector512.FusedMultiplyAdd(w, x0, c30); c31 = Vector512.FusedMultiplyAdd(w, x1, c31);
            w = Vector512.Create(b4[kk]); c40 = Vector512.FusedMultiplyAdd(w, x0, c40); c41 = Vector512.FusedMultiplyAdd(w, x1, c41);
            w = Vector512.Create(b5[kk]); c50 = Vector512.FusedMultiplyAdd(w, x0, c50); c51 = Vector512.FusedMultiplyAdd(w, x1, c51);
            w = Vector512.Create(b6[kk]); c60 = Vector512.FusedMultiplyAdd(w, x0, c60); c61 = Vector512.FusedMultiplyAdd(w, x1, c61);
            w = Vector512.Create(b7[kk]); c70 = Vector512.FusedMultiplyAdd(w, x0, c70); c71 = Vector512.FusedMultiplyAdd(w, x1, c71);
        }
        if (accumulate)
        {
            c00 += Vector512.Load(acc); c01 += Vector512.Load(acc + 16); c10 += Vector512.Load(acc + 32); c11 += Vector512.Load(acc + 48);
            c20 += Vector512.Load(acc + 64); c21 += Vector512.Load(acc + 80); c30 += Vector512.Load(acc + 96); c31 += Vector512.Load(acc + 112);
            c40 += Vector512.Load(acc + 128); c41 += Vector512.Load(acc + 144); c50 += Vector512.Load(acc + 160); c51 += Vector512.Load(acc + 176);
            c60 += Vector512.Load(acc + 192); c61 += Vector512.Load(acc + 208); c70 += Vector512.Load(acc + 224); c71 += Vector512.Load(acc + 240);
        }
        c00.Store(acc); c01.Store(acc + 16); c10.Store(acc + 32); c11.Store(acc + 48);
        c20.Store(acc + 64); c21.Store(acc + 80); c30.Store(acc + 96); c31.Store(acc + 112);
        c40.Store(acc + 128); c41.Store(acc + 144); c50.Store(acc + 160); c51.Store(acc + 176);
        c60.Store(acc + 192); c61.Store(acc + 208); c70.Store(acc + 224); c71.Store(acc + 240);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x16(float* at, int ld, float** bRows, int k0, int k1, float* acc, bool accumulate)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        float* b0 = bRows[0], b1 = bRows[1], b2 = bRows[2], b3 = bRows[3];
        for (int kk = k0; kk < k1; kk++)
        {
            float* src = at + (long)kk * ld;
            var x0 = Vector256.Load(src);
            var x1 = Vector256.Load(src + 8);
            var w = Vector256.Create(b0[kk]); c00 = Vector256.FusedMultiplyAdd(w, x0, c00); c01 = Vector256.FusedMultiplyAdd(w, x1, c01);
            w = Vector256.Create(b1[kk]); c10 = Vector256.FusedMultiplyAdd(w, x0, c10); c11 = Vector256.FusedMultiplyAdd(w, x1, c11);
            w = Vector256.Create(b2[kk]); c20 = Vector256.FusedMultiplyAdd(w, x0, c20); c21 = Vector256.FusedMultiplyAdd(w, x1, c21);
            w = Vector256.Create(b3[kk]); c30 = Vector256.FusedMultiplyAdd(w, x0, c30); c31 = Vector256.FusedMultiplyAdd(w, x1, c31);
        }
        if (accumulate)
        {
            c00 += Vector256.Load(acc); c01 += Vector256.Load(acc + 8); c10 += Vector256.Load(acc + 16); c11 += Vector256.Load(acc + 24);
            c20 += Vector256.Load(acc + 32); c21 += Vector256.Load(acc + 40); c30 += Vector256.Load(acc + 48); c31 += Vector256.Load(acc + 56);
        }
        c00.Store(acc); c01.Store(acc + 8); c10.Store(acc + 16); c11.Store(acc + 24);
        c20.Store(acc + 32); c21.Store(acc + 40); c30.Store(acc + 48); c31.Store(acc + 56);
    }

    /// <summary>
    /// The tile (acc[col][row]) into C[i, j] with the bias: transposed on the way out, valid rows and columns only.
    /// With <paramref name="accumulate"/>, added to what C holds.
    /// </summary>
    private static void Store(float* acc, TileShape tile, float* c, float* bias, int m, int n, int i0, int j0, bool accumulate)
    {
        int rows = Math.Min(tile.Rows, m - i0), cols = Math.Min(tile.Cols, n - j0);
        for (int r = 0; r < rows; r++)
        {
            float* crow = c + (long)(i0 + r) * n + j0;
            for (int q = 0; q < cols; q++)
            {
                float v = acc[q * tile.Rows + r];
                if (bias != null) v += bias[j0 + q];
                crow[q] = accumulate ? crow[q] + v : v;
            }
        }
    }
}
