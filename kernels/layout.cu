// Layout kernels: strided 2-D copies (concat, slice), permute and tiled transpose, nearest 2x upsample, the decoder's flip/rot90
// augmentation, the lower median of 8, im2col for convolutions, LoRA input-channel growth and the RGBA byte output.
// Pure data movement is written per element size (u16 covers fp16 and bf16, u32 covers fp32), since the bits are
// copied unchanged.
#include "ld_cuda.h"

#define LD_FOR_SIZES(M) M(unsigned short, u16) M(unsigned int, u32)

// ---- dst[r, c] = src[r, c] with independent row strides (in elements). grid = (⌈cols / (P·256)⌉, min(rows, 65535)),
// block = 256: a thread owns one 16-byte slot (P elements) of a row, rows stride by gridDim.y; no index division.
template <class U>
LD_DEV void copy2d_impl(long long rows, long long cols, const U* src, long long src_stride, U* dst, long long dst_stride)
{
    constexpr int P = 16 / (int)sizeof(U);
    const long long c = ((long long)ld_bid_x() * ld_ntid() + ld_tid()) * P;
    if (c >= cols) return;
    const int count = cols - c < P ? (int)(cols - c) : P;
    const bool vec = count == P && cols % P == 0 && src_stride % P == 0 && dst_stride % P == 0 && ld_aligned16(src) && ld_aligned16(dst);
    for (long long r = ld_bid_y(); r < rows; r += ld_nbid_y())
    {
        const U* s = src + r * src_stride + c;
        U* d = dst + r * dst_stride + c;
        if (vec) *(ld_u4*)d = *(const ld_u4*)s;
        else for (int k = 0; k < count; k++) d[k] = s[k];
    }
}

#define LD_COPY2D(U, S) \
    extern "C" __global__ void ld_copy2d_##S(long long rows, long long cols, const U* src, long long src_stride, U* dst, long long dst_stride) \
    { copy2d_impl<U>(rows, cols, src, src_stride, dst, dst_stride); }
LD_FOR_SIZES(LD_COPY2D)

// ---- permute: output element i (row-major over out_shape) reads x at Σ idx[d]·in_stride[d]. The host has merged
// axes that stay adjacent and sends batched transposes to the tiled kernel below; n < 2^31, so the per-axis
// division is a multiply-high.
#define LD_MAX_RANK 8
struct PermuteShape
{
    int rank;
    FastDivmod out_shape[LD_MAX_RANK];
    long long in_stride[LD_MAX_RANK];
};

template <class U>
LD_DEV void permute_impl(int n, const U* x, U* y, const PermuteShape& s)
{
    for (int i = (int)(ld_bid_x() * ld_ntid() + ld_tid()); i < n; i += (int)(ld_nbid_x() * ld_ntid()))
    {
        int rem = i;
        long long off = 0;
        for (int d = s.rank - 1; d >= 0; d--)
        {
            int q = ld_div(rem, s.out_shape[d]);
            off += (rem - q * s.out_shape[d].d) * s.in_stride[d];
            rem = q;
        }
        y[i] = x[off];
    }
}

#define LD_PERMUTE(U, S) \
    extern "C" __global__ void ld_permute_##S(int n, const U* x, U* y, PermuteShape s) { permute_impl<U>(n, x, y, s); }
LD_FOR_SIZES(LD_PERMUTE)

// ---- batched transpose x [batch, rows, cols] -> y [batch, cols, rows] through a 32×33 shared tile, so both the
// reads and the writes are coalesced (NCHW <-> NHWC around every transformer block). grid = (⌈cols / 32⌉,
// ⌈rows / 32⌉, batch), block = 256 (8 rows of 32).
template <class U>
LD_DEV void transpose_impl(int rows, int cols, const U* x, U* y)
{
    __shared__ U tile[32][33];
    const int tx = ld_tid() & 31, ty = ld_tid() >> 5;
    const int c0 = ld_bid_x() * 32, r0 = ld_bid_y() * 32;
    const long long plane = (long long)rows * cols;
    const U* xb = x + ld_bid_z() * plane;
    U* yb = y + ld_bid_z() * plane;
    for (int k = ty; k < 32; k += 8)
    {
        int r = r0 + k, c = c0 + tx;
        if (r < rows && c < cols) tile[k][tx] = xb[(long long)r * cols + c];
    }
    ld_sync();
    for (int k = ty; k < 32; k += 8)
    {
        int c = c0 + k, r = r0 + tx;
        if (r < rows && c < cols) yb[(long long)c * rows + r] = tile[tx][k];
    }
}

#define LD_TRANSPOSE(U, S) \
    extern "C" __global__ void __launch_bounds__(256) ld_transpose_##S(int rows, int cols, const U* x, U* y) { transpose_impl<U>(rows, cols, x, y); }
LD_FOR_SIZES(LD_TRANSPOSE)

// ---- nearest-neighbour 2x upsampling of [planes, h, w] into [planes, 2h, 2w]. grid = (⌈w / 256⌉, min(h, 65535),
// min(planes, 65535)): a thread reads one input element and writes its 2×2 block; no index division.
template <class U>
LD_DEV void upsample2x_impl(long long planes, int h, int w, const U* x, U* y)
{
    const int c = ld_bid_x() * ld_ntid() + ld_tid();
    if (c >= w) return;
    const long long wo = 2LL * w;
    for (long long p = ld_bid_z(); p < planes; p += ld_nbid_z())
        for (int r = ld_bid_y(); r < h; r += ld_nbid_y())
        {
            U v = x[(p * h + r) * w + c];
            U* o = y + (p * 2 * h + 2 * r) * wo + 2 * c;
            o[0] = v; o[1] = v; o[wo] = v; o[wo + 1] = v;
        }
}

#define LD_UPSAMPLE(U, S) \
    extern "C" __global__ void ld_upsample2x_##S(long long planes, int h, int w, const U* x, U* y) { upsample2x_impl<U>(planes, h, w, x, y); }
LD_FOR_SIZES(LD_UPSAMPLE)

// ---- the decoder's test-time augmentation on [planes, h, w] (h, w: the input's sizes).
// Forward: flip W (optional), then rot90 k times (torch.rot90 dims (2, 3): out[i, j] = in[j, W-1-i]).
// Inverse: rot90 (4-k) times, then flip. Each output element walks the steps backwards to its source.
template <class U>
LD_DEV void fliprot_impl(long long planes, int h, int w, int flip, int k, int inverse, const U* x, U* y)
{
    int rots = inverse ? (4 - k) & 3 : k & 3;
    // Output plane sizes: every rotation swaps the axes.
    int ho = (rots & 1) ? w : h, wo = (rots & 1) ? h : w;
    long long plane = (long long)ho * wo, n = planes * plane;
    LD_GRID_LOOP(i, n)
    {
        long long p = i / plane, rem = i - p * plane;
        int r = (int)(rem / wo), c = (int)(rem - (long long)r * wo);
        int ch = ho, cw = wo;  // sizes of the current stage's output
        bool flip_last = inverse && flip, flip_first = !inverse && flip;
        if (flip_last) c = cw - 1 - c;
        for (int s = 0; s < rots; s++)
        {
            // This stage maps in [cw, ch] (its input has h' = cw, w' = ch) to out[ch, cw]: out[r, c] = in[c, w'-1-r].
            int nr = c, nc = ch - 1 - r;
            r = nr; c = nc;
            int t = ch; ch = cw; cw = t;
        }
        if (flip_first) c = cw - 1 - c;
        y[i] = x[p * plane + (long long)r * w + c];
    }
}

#define LD_FLIPROT(U, S) \
    extern "C" __global__ void ld_fliprot_##S(long long planes, int h, int w, int flip, int k, int inverse, const U* x, U* y) \
    { fliprot_impl<U>(planes, h, w, flip, k, inverse, x, y); }
LD_FOR_SIZES(LD_FLIPROT)

// ---- lower median (4th smallest) of 8 same-shape tensors
struct Ptr8 { const void* p[8]; };

#define LD_CSWAP(a, b) { float lo_ = ld_min(v[a], v[b]), hi_ = ld_max(v[a], v[b]); v[a] = lo_; v[b] = hi_; }

template <class T>
LD_DEV void median8_impl(long long n, const Ptr8& src, T* y)
{
    LD_GRID_LOOP(i, n)
    {
        float v[8];
#pragma unroll
        for (int q = 0; q < 8; q++) v[q] = ld_load((const T*)src.p[q] + i);
        // Batcher's odd-even merge sort network for 8 inputs (19 compare-exchanges).
        LD_CSWAP(0, 1) LD_CSWAP(2, 3) LD_CSWAP(4, 5) LD_CSWAP(6, 7)
        LD_CSWAP(0, 2) LD_CSWAP(1, 3) LD_CSWAP(4, 6) LD_CSWAP(5, 7)
        LD_CSWAP(1, 2) LD_CSWAP(5, 6)
        LD_CSWAP(0, 4) LD_CSWAP(1, 5) LD_CSWAP(2, 6) LD_CSWAP(3, 7)
        LD_CSWAP(2, 4) LD_CSWAP(3, 5)
        LD_CSWAP(1, 2) LD_CSWAP(3, 4) LD_CSWAP(5, 6)
        ld_store(y + i, v[3]);
    }
}

#define LD_MEDIAN8(T, S) \
    extern "C" __global__ void ld_median8_##S(long long n, Ptr8 src, T* y) { median8_impl<T>(n, src, y); }
LD_FOR_TYPES(LD_MEDIAN8)

// ---- im2col for one image and a band of output rows [r0, r0 + rows):
// col[(c·kh + ky)·kw + kx, r·wo + ox] = x[c, oy·stride − pad + ky, ox·stride − pad + kx] (0 outside),
// so the convolution of the band is W[co, kdim] · col[kdim, rows·wo], written straight into NCHW.
// grid = (⌈wo / 256⌉, min(kdim, 65535), min(rows, 65535)): a block owns one (c, ky, kx) and one output row, a thread
// one output column, so no index needs a division (the transparent encoder's full-resolution convolutions write
// over a billion col elements: per-element 64-bit divisions were most of their time).
template <class U>
LD_DEV void im2col_impl(const U* x, U* col, int ci, int h, int w, int kh, int kw, int stride, int pad, int r0, int rows, int wo)
{
    const int ox = ld_bid_x() * ld_ntid() + ld_tid();
    if (ox >= wo) return;
    const int kdim = ci * kh * kw;
    const long long cols = (long long)rows * wo;
    for (int kidx = ld_bid_y(); kidx < kdim; kidx += ld_nbid_y())
    {
        const int c = kidx / (kh * kw), kyx = kidx - c * kh * kw, ky = kyx / kw, kx = kyx - ky * kw;
        const int ix = ox * stride - pad + kx;
        const U* xc = x + (long long)c * h * w;
        for (int r = ld_bid_z(); r < rows; r += ld_nbid_z())
        {
            int iy = (r0 + r) * stride - pad + ky;
            U v = 0;
            if ((unsigned)iy < (unsigned)h && (unsigned)ix < (unsigned)w) v = xc[(long long)iy * w + ix];
            col[kidx * cols + (long long)r * wo + ox] = v;
        }
    }
}

#define LD_IM2COL(U, S) \
    extern "C" __global__ void ld_im2col_##S(const U* x, U* col, int ci, int h, int w, int kh, int kw, int stride, int pad, int r0, int rows, int wo) \
    { im2col_impl<U>(x, col, ci, h, w, kh, kw, stride, pad, r0, rows, wo); }
LD_FOR_SIZES(LD_IM2COL)

// ---- LoRA input-channel growth: y[o, i, k] = i < in_old ? x[o, i, k] : 0 for a weight [out, in, k...]
template <class U>
LD_DEV void grow_in_impl(long long outs, int in_old, int in_new, long long inner, const U* x, U* y)
{
    long long n = outs * in_new * inner;
    LD_GRID_LOOP(i, n)
    {
        long long o = i / ((long long)in_new * inner), rem = i - o * in_new * inner;
        int ic = (int)(rem / inner);
        long long k = rem - (long long)ic * inner;
        y[i] = ic < in_old ? x[(o * in_old + ic) * inner + k] : (U)0;
    }
}

#define LD_GROW_IN(U, S) \
    extern "C" __global__ void ld_grow_in_##S(long long outs, int in_old, int in_new, long long inner, const U* x, U* y) \
    { grow_in_impl<U>(outs, in_old, in_new, inner, x, y); }
LD_FOR_SIZES(LD_GROW_IN)

// ---- image bytes: x[n, c, hw] -> y[n, hw, c] as round(clamp(x·scale + shift, 0, 255)) (RGBA / preview output)
template <class T>
LD_DEV void to_bytes_impl(long long images, int c, long long hw, const T* x, unsigned char* y, float scale, float shift)
{
    long long n = images * hw * c;
    LD_GRID_LOOP(i, n)
    {
        long long img = i / (hw * c), rem = i - img * hw * c;
        long long p = rem / c;
        int ch = (int)(rem - p * c);
        float v = ld_fma(ld_load(x + (img * c + ch) * hw + p), scale, shift);
        v = ld_min(ld_max(v, 0.0f), 255.0f);
        y[i] = (unsigned char)(int)ld_rint(v);
    }
}

#define LD_TO_BYTES(T, S) \
    extern "C" __global__ void ld_to_bytes_##S(long long images, int c, long long hw, const T* x, unsigned char* y, float scale, float shift) \
    { to_bytes_impl<T>(images, c, hw, x, y, scale, shift); }
LD_FOR_TYPES(LD_TO_BYTES)

// ---- the decoder's test-time augmentation undone and combined in one pass: src.p[i] is the output of augmentation
// i = flip·4 + k (flip W, then rot90 k times, as in FlipRot), shaped [planes, h, w] for even k and [planes, w, h]
// for odd k; y[planes, h, w] is the lower median over i of the inverted outputs. Each output element maps its
// coordinates forward through augmentation i to find where that pass stored it, so nothing is rotated in memory.
template <class T>
LD_DEV void unaugment_median8_impl(long long planes, int h, int w, const Ptr8& src, T* y)
{
    long long plane = (long long)h * w, n = planes * plane;
    LD_GRID_LOOP(e, n)
    {
        long long p = e / plane, rem = e - p * plane;
        int r0 = (int)(rem / w), c0 = (int)(rem - (long long)r0 * w);
        float v[8];
#pragma unroll
        for (int i = 0; i < 8; i++)
        {
            int r = r0, c = c0, ch = h, cw = w;
            if (i >= 4) c = cw - 1 - c;
            for (int s = 0; s < (i & 3); s++)
            {
                // rot90 maps in[r, c] of an [ch, cw] plane to out[cw - 1 - c, r] of a [cw, ch] plane.
                int nr = cw - 1 - c, nc = r;
                r = nr; c = nc;
                int t = ch; ch = cw; cw = t;
            }
            v[i] = ld_load((const T*)src.p[i] + p * plane + (long long)r * cw + c);
        }
        LD_CSWAP(0, 1) LD_CSWAP(2, 3) LD_CSWAP(4, 5) LD_CSWAP(6, 7)
        LD_CSWAP(0, 2) LD_CSWAP(1, 3) LD_CSWAP(4, 6) LD_CSWAP(5, 7)
        LD_CSWAP(1, 2) LD_CSWAP(5, 6)
        LD_CSWAP(0, 4) LD_CSWAP(1, 5) LD_CSWAP(2, 6) LD_CSWAP(3, 7)
        LD_CSWAP(2, 4) LD_CSWAP(3, 5)
        LD_CSWAP(1, 2) LD_CSWAP(3, 4) LD_CSWAP(5, 6)
        ld_store(y + e, v[3]);
    }
}

#define LD_UNAUGMENT(T, S) \
    extern "C" __global__ void ld_unaugment_median8_##S(long long planes, int h, int w, Ptr8 src, T* y) \
    { unaugment_median8_impl<T>(planes, h, w, src, y); }
LD_FOR_TYPES(LD_UNAUGMENT)
