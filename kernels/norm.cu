// Normalisation kernels: GroupNorm (+ an optional per-channel add before it, + fused SiLU), LayerNorm, softmax, and
// the masked, scaled softmax of the attention's general (GEMM) path. Statistics are fp32 and never Σx² − (Σx)²/n
// (which cancels when the mean is large): GroupNorm merges per-slot (mean, M2) pairwise, LayerNorm keeps its row in
// registers and takes Σ(x − mean)² from them.
#include "ld_cuda.h"

// ---- Mean and M2 (sum of squared deviations) of pieces of data, merged pairwise (Chan et al.): exact to rounding
// whatever the mean, unlike Σx² − (Σx)²/n in fp32.
struct MeanM2 { float mean, m2; };

LD_DEV void ld_chan_merge(float& n, float& mean, float& m2, float nb, float meanb, float m2b)
{
    float tot = n + nb;
    if (nb == 0.0f) return;
    float delta = meanb - mean, w = nb / tot;
    mean = ld_fma(delta, w, mean);
    m2 += m2b + delta * delta * n * w;
    n = tot;
}

/// (count, mean, M2) of up to 8 values, folded into a running (n, mean, m2).
LD_DEV void ld_stats_add8(float& n, float& mean, float& m2, const float (&v)[8], int count)
{
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < 8; k++) s += k < count ? v[k] : 0.0f;
    float c = (float)count, m = s / c, q = 0.0f;
#pragma unroll
    for (int k = 0; k < 8; k++) { float d = k < count ? v[k] - m : 0.0f; q = ld_fma(d, d, q); }
    ld_chan_merge(n, mean, m2, c, m, q);
}

/// Merges every thread's (n, mean, m2) over the block (blockDim a multiple of 32); thread 0 gets the result.
/// scratch: 96 floats of shared memory.
LD_DEV void ld_block_merge(float& n, float& mean, float& m2, float* scratch)
{
    for (int o = 16; o > 0; o >>= 1)
    {
        float other[3] = { n, mean, m2 };
        ld_shfl_xor3(other, o);
        ld_chan_merge(n, mean, m2, other[0], other[1], other[2]);
    }
    unsigned lane = ld_tid() & 31u, warp = ld_tid() >> 5, warps = ld_ntid() >> 5;
    ld_sync();
    if (lane == 0) { scratch[warp] = n; scratch[32 + warp] = mean; scratch[64 + warp] = m2; }
    ld_sync();
    if (ld_tid() == 0)
        for (unsigned w = 1; w < warps; w++) ld_chan_merge(n, mean, m2, scratch[w], scratch[32 + w], scratch[64 + w]);
}

// ---- GroupNorm over x [N, C, spatial] (+ an optional add[N, C] folded in before the norm: the UNet ResBlock's
// h + emb[:, :, None, None]), affine, optional SiLU. A group is cpg·spatial contiguous elements (up to millions in
// the VAE), split into `chunks` pieces of `piece` elements (a multiple of 8) handled by separate blocks: pass 1
// writes each piece's (mean, M2), pass 2 merges them and normalises its piece. Threads move slots of 8 elements
// (16-byte accesses when spatial is a multiple of 8, so a slot never straddles channels). grid = (chunks,
// N·groups), block = 256. A group has fewer than 2^31 elements (the host checks), so indices are 32-bit.
template <class T>
LD_DEV float gn_add(const T* add, long long base, int ch) { return add ? ld_load(add + base + ch) : 0.0f; }

/// Loads slot i (count elements) of a group with its channels' add applied; per-element channels when unaligned.
template <class T>
LD_DEV void gn_load_slot(const T* src, const T* add, long long add_base, int i, int count, bool vec, const FastDivmod& spatial, float (&v)[8])
{
    if (vec)
    {
        ld_load8(src + i, v);
        float a = gn_add(add, add_base, ld_div(i, spatial));
#pragma unroll
        for (int k = 0; k < 8; k++) v[k] += a;
    }
    else
    {
#pragma unroll
        for (int k = 0; k < 8; k++) v[k] = k < count ? ld_load(src + i + k) + gn_add(add, add_base, ld_div(i + k, spatial)) : 0.0f;
    }
}

template <class T>
LD_DEV void gn_stats_impl(const T* x, const T* add, MeanM2* partial, int len, FastDivmod spatial, int piece, int chunks, int groups, int cpg, int channels)
{
    __shared__ float scratch[96];
    const int c = ld_bid_x(), ng = ld_bid_y(), grp = ng % groups;
    const long long add_base = (long long)(ng / groups) * channels + grp * cpg;
    const int b = c * piece, e = b + piece < len ? b + piece : len;
    const T* src = x + (long long)ng * len;
    const bool vec = (spatial.d & 7) == 0 && ld_aligned16(src);
    float n = 0.0f, mean = 0.0f, m2 = 0.0f;
    for (int i = b + (int)ld_tid() * 8; i < e; i += (int)ld_ntid() * 8)
    {
        int count = e - i < 8 ? e - i : 8;
        float v[8];
        gn_load_slot(src, add, add_base, i, count, vec && count == 8, spatial, v);
        ld_stats_add8(n, mean, m2, v, count);
    }
    ld_block_merge(n, mean, m2, scratch);
    if (ld_tid() == 0) { partial[(long long)ng * chunks + c].mean = mean; partial[(long long)ng * chunks + c].m2 = m2; }
}

template <class T>
LD_DEV void gn_apply_impl(const T* x, const T* add, T* y, const MeanM2* partial, const T* gamma, const T* beta, int len, FastDivmod spatial,
                          int piece, int chunks, int groups, int cpg, int channels, float eps, int silu)
{
    __shared__ float stats[2];
    const int c = ld_bid_x(), ng = ld_bid_y(), grp = ng % groups;
    if (ld_tid() == 0)
    {
        // Merge the pieces in order; every block of the group does the same arithmetic, so all agree bit for bit.
        float n = 0.0f, mean = 0.0f, m2 = 0.0f;
        for (int k = 0; k < chunks; k++)
        {
            int kb = k * piece, cnt = len - kb < piece ? len - kb : piece;
            if (cnt <= 0) continue;
            MeanM2 p = partial[(long long)ng * chunks + k];
            ld_chan_merge(n, mean, m2, (float)cnt, p.mean, p.m2);
        }
        stats[0] = mean;
        stats[1] = 1.0f / ld_sqrt(m2 / (float)len + eps);
    }
    ld_sync();
    const float mean = stats[0], inv = stats[1];
    const long long add_base = (long long)(ng / groups) * channels + grp * cpg;
    const int b = c * piece, e = b + piece < len ? b + piece : len;
    const T* src = x + (long long)ng * len;
    T* dst = y + (long long)ng * len;
    const bool vec = (spatial.d & 7) == 0 && ld_aligned16(src) && ld_aligned16(dst);
    for (int i = b + (int)ld_tid() * 8; i < e; i += (int)ld_ntid() * 8)
    {
        int count = e - i < 8 ? e - i : 8;
        float v[8];
        gn_load_slot(src, add, add_base, i, count, vec && count == 8, spatial, v);
#pragma unroll
        for (int k = 0; k < 8; k++)
        {
            int ch = grp * cpg + ld_div(vec ? i : i + k, spatial);
            float scale = ld_load(gamma + ch) * inv;
            float r = ld_fma(v[k] - mean, scale, ld_load(beta + ch));
            v[k] = silu ? r * ld_sigmoid(r) : r;
        }
        if (vec && count == 8) ld_store8(dst + i, v); else ld_store_n(dst + i, v, count);
    }
}

#define LD_GROUPNORM(T, S) \
    extern "C" __global__ void __launch_bounds__(256) ld_gn_stats_##S(const T* x, const T* add, MeanM2* partial, int len, FastDivmod spatial, \
        int piece, int chunks, int groups, int cpg, int channels) \
    { gn_stats_impl<T>(x, add, partial, len, spatial, piece, chunks, groups, cpg, channels); } \
    extern "C" __global__ void __launch_bounds__(256) ld_gn_apply_##S(const T* x, const T* add, T* y, const MeanM2* partial, const T* gamma, \
        const T* beta, int len, FastDivmod spatial, int piece, int chunks, int groups, int cpg, int channels, float eps, int silu) \
    { gn_apply_impl<T>(x, add, y, partial, gamma, beta, len, spatial, piece, chunks, groups, cpg, channels, eps, silu); }
LD_FOR_TYPES(LD_GROUPNORM)

// ---- LayerNorm over the last axis: one block per row. Rows of up to 4 slots of 8 a thread (n ≤ 8192 at 256
// threads, n a multiple of 8) stay in registers: one read of x, one write of y, and the variance from the held
// values (Σ(x − mean)², exact). Other rows take the plain two-pass loop.
template <class T>
LD_DEV void layernorm_impl(const T* x, T* y, const T* gamma, const T* beta, int n, float eps)
{
    __shared__ float scratch[32];
    long long row = ld_bid_x();  // grid.x goes to 2^31 - 1 rows
    const T* src = x + row * n;
    T* dst = y + row * n;
    const int slots = n >> 3, tid = ld_tid(), nt = ld_ntid();
    if ((n & 7) == 0 && slots <= 4 * nt && ld_aligned16(src) && ld_aligned16(dst) && ld_aligned16(gamma) && ld_aligned16(beta))
    {
        float v[4][8], s = 0.0f;
#pragma unroll
        for (int j = 0; j < 4; j++)
        {
            int slot = tid + j * nt;
            if (slot < slots) ld_load8(src + slot * 8, v[j]);
#pragma unroll
            for (int k = 0; k < 8; k++) s += slot < slots ? v[j][k] : 0.0f;
        }
        float mean = ld_block_sum(s, scratch) / (float)n, q = 0.0f;
#pragma unroll
        for (int j = 0; j < 4; j++)
#pragma unroll
            for (int k = 0; k < 8; k++) { float d = tid + j * nt < slots ? v[j][k] - mean : 0.0f; q = ld_fma(d, d, q); }
        float inv = 1.0f / ld_sqrt(ld_block_sum(q, scratch) / (float)n + eps);
#pragma unroll
        for (int j = 0; j < 4; j++)
        {
            int slot = tid + j * nt;
            if (slot >= slots) continue;
            float g[8], b[8];
            ld_load8(gamma + slot * 8, g);
            ld_load8(beta + slot * 8, b);
#pragma unroll
            for (int k = 0; k < 8; k++) v[j][k] = ld_fma((v[j][k] - mean) * inv, g[k], b[k]);
            ld_store8(dst + slot * 8, v[j]);
        }
        return;
    }
    float s = 0.0f;
    for (int i = tid; i < n; i += nt) s += ld_load(src + i);
    float mean = ld_block_sum(s, scratch) / (float)n;
    float q = 0.0f;
    for (int i = tid; i < n; i += nt) { float d = ld_load(src + i) - mean; q = ld_fma(d, d, q); }
    float inv = 1.0f / ld_sqrt(ld_block_sum(q, scratch) / (float)n + eps);
    for (int i = tid; i < n; i += nt)
        ld_store(dst + i, (ld_load(src + i) - mean) * inv * ld_load(gamma + i) + ld_load(beta + i));
}

#define LD_LAYERNORM(T, S) \
    extern "C" __global__ void __launch_bounds__(256) ld_layernorm_##S(const T* x, T* y, const T* gamma, const T* beta, int n, float eps) \
    { layernorm_impl<T>(x, y, gamma, beta, n, eps); }
LD_FOR_TYPES(LD_LAYERNORM)

// ---- softmax(x·scale) over rows of n, one block per row. With causal != 0, row r (query q0 + r % rows_per_head)
// only sees the first q0 + r % rows_per_head + 1 entries and the rest become 0, as the CPU reference does.
template <class TI, class TO>
LD_DEV void softmax_impl(const TI* x, TO* y, int n, float scale, int causal, int q0, int rows_per_head)
{
    __shared__ float scratch[32];
    long long row = ld_bid_x();  // grid.x goes to 2^31 - 1 rows
    const TI* src = x + row * n;
    TO* dst = y + row * n;
    int valid = n;
    if (causal) { int qi = q0 + (int)row % rows_per_head + 1; valid = qi < n ? qi : n; }
    float m = -3.402823466e38f;
    for (int i = ld_tid(); i < valid; i += ld_ntid()) m = ld_max(m, ld_load(src + i) * scale);
    m = ld_block_max(m, scratch);
    float s = 0.0f;
    for (int i = ld_tid(); i < valid; i += ld_ntid()) s += ld_exp(ld_load(src + i) * scale - m);
    float inv = 1.0f / ld_block_sum(s, scratch);
    for (int i = ld_tid(); i < n; i += ld_ntid())
        ld_store(dst + i, i < valid ? ld_exp(ld_load(src + i) * scale - m) * inv : 0.0f);
}

#define LD_SOFTMAX(T, S) \
    extern "C" __global__ void __launch_bounds__(256) ld_softmax_##S(const T* x, T* y, int n) \
    { softmax_impl<T, T>(x, y, n, 1.0f, 0, 0, 1); } \
    extern "C" __global__ void __launch_bounds__(256) ld_attn_softmax_##S(const float* x, T* y, int n, float scale, int causal, int q0, int rows_per_head) \
    { softmax_impl<float, T>(x, y, n, scale, causal, q0, rows_per_head); }
LD_FOR_TYPES(LD_SOFTMAX)
