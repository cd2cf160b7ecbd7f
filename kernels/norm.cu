// Normalisation kernels: GroupNorm (+ fused SiLU), LayerNorm, softmax, and the masked, scaled softmax of the
// attention's general (GEMM) path. Statistics are fp32 and two-pass (mean first, then Σ(x − mean)²), which keeps
// the variance accurate where a one-pass Σx² would cancel.
#include "ld_cuda.h"

// ---- GroupNorm. A group of [N, C, spatial] is cpg·spatial contiguous elements (up to millions in the VAE), so it
// is split into `chunks` pieces handled by separate blocks: pass 1 writes each piece's (mean, M2), pass 2 merges
// them (Chan et al.'s pairwise update) and normalises its piece. grid = (chunks, N·groups), block = 256.
struct MeanM2 { float mean, m2; };

LD_DEV void chunk_range(long long len, int chunks, int c, long long* begin, long long* end)
{
    long long per = (len + chunks - 1) / chunks, b = (long long)c * per;
    *begin = b < len ? b : len;
    *end = *begin + per < len ? *begin + per : len;
}

template <class T>
LD_DEV void gn_stats_impl(const T* x, MeanM2* partial, long long len, int chunks)
{
    __shared__ float scratch[32];
    int c = ld_bid_x();
    long long ng = ld_bid_y(), b, e;
    chunk_range(len, chunks, c, &b, &e);
    const T* src = x + ng * len;
    float s = 0.0f;
    for (long long i = b + ld_tid(); i < e; i += ld_ntid()) s += ld_load(src + i);
    long long cnt = e - b;
    float total = ld_block_sum(s, scratch);  // every thread of the block calls it: it syncs
    float mean = cnt > 0 ? total / (float)cnt : 0.0f;
    float q = 0.0f;
    for (long long i = b + ld_tid(); i < e; i += ld_ntid()) { float d = ld_load(src + i) - mean; q = ld_fma(d, d, q); }
    float m2 = ld_block_sum(q, scratch);
    if (ld_tid() == 0) { partial[ng * chunks + c].mean = mean; partial[ng * chunks + c].m2 = m2; }
}

template <class T>
LD_DEV void gn_apply_impl(const T* x, T* y, const MeanM2* partial, const T* gamma, const T* beta,
                          long long len, int chunks, int groups, int cpg, long long spatial, float eps, int silu)
{
    __shared__ float stats[2];
    int c = ld_bid_x();
    long long ng = ld_bid_y(), b, e;
    if (ld_tid() == 0)
    {
        // Merge the pieces in order; every block of the group does the same arithmetic, so all agree bit for bit.
        float n = 0.0f, mean = 0.0f, m2 = 0.0f;
        for (int k = 0; k < chunks; k++)
        {
            long long kb, ke;
            chunk_range(len, chunks, k, &kb, &ke);
            float nb = (float)(ke - kb);
            if (nb <= 0.0f) continue;
            MeanM2 p = partial[ng * chunks + k];
            float tot = n + nb, delta = p.mean - mean;
            mean = mean + delta * (nb / tot);
            m2 = m2 + p.m2 + delta * delta * (n * nb / tot);
            n = tot;
        }
        stats[0] = mean;
        stats[1] = 1.0f / ld_sqrt(m2 / (float)len + eps);
    }
    ld_sync();
    float mean = stats[0], inv = stats[1];
    int grp = (int)(ng % groups);
    chunk_range(len, chunks, c, &b, &e);
    const T* src = x + ng * len;
    T* dst = y + ng * len;
    for (long long i = b + ld_tid(); i < e; i += ld_ntid())
    {
        int ch = grp * cpg + (int)(i / spatial);
        float g = ld_load(gamma + ch), bt = ld_load(beta + ch);
        float v = (ld_load(src + i) - mean) * inv * g + bt;
        if (silu) v = v * ld_sigmoid(v);
        ld_store(dst + i, v);
    }
}

#define LD_GROUPNORM(T, S) \
    extern "C" __global__ void __launch_bounds__(256) ld_gn_stats_##S(const T* x, MeanM2* partial, long long len, int chunks) \
    { gn_stats_impl<T>(x, partial, len, chunks); } \
    extern "C" __global__ void __launch_bounds__(256) ld_gn_apply_##S(const T* x, T* y, const MeanM2* partial, const T* gamma, const T* beta, \
        long long len, int chunks, int groups, int cpg, long long spatial, float eps, int silu) \
    { gn_apply_impl<T>(x, y, partial, gamma, beta, len, chunks, groups, cpg, spatial, eps, silu); }
LD_FOR_TYPES(LD_GROUPNORM)

// ---- LayerNorm over the last axis: one block per row.
template <class T>
LD_DEV void layernorm_impl(const T* x, T* y, const T* gamma, const T* beta, int n, float eps)
{
    __shared__ float scratch[32];
    long long row = ld_bid_x();  // grid.x goes to 2^31 - 1 rows
    const T* src = x + row * n;
    T* dst = y + row * n;
    float s = 0.0f;
    for (int i = ld_tid(); i < n; i += ld_ntid()) s += ld_load(src + i);
    float mean = ld_block_sum(s, scratch) / (float)n;
    float q = 0.0f;
    for (int i = ld_tid(); i < n; i += ld_ntid()) { float d = ld_load(src + i) - mean; q = ld_fma(d, d, q); }
    float inv = 1.0f / ld_sqrt(ld_block_sum(q, scratch) / (float)n + eps);
    for (int i = ld_tid(); i < n; i += ld_ntid())
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
    if (causal) { int qi = q0 + (int)(row % rows_per_head) + 1; valid = qi < n ? qi : n; }
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
