// Fused attention forward (flash-style: keys streamed through shared memory in tiles, online softmax, the
// [queries, keys] score matrix never stored). q [B, N, H·D] with rows sq elements apart, k and v [B, M, H·D] with
// rows skv apart (sq = skv = H·D for separate tensors, 3·H·D for a packed q|k|v projection), o [B, N, H·D].
// One thread owns one query row: its scaled q and its output accumulator live in registers, and every thread of a
// warp reads the same K/V element of the tile, which shared memory broadcasts. Fast paths:
//   D = 64 (SDXL UNet and CLIP heads; 77-key cross-attention and 77×77 causal text attention included),
//   D = 8 (the transparent decoder's heads),
//   D < 8 (tiny test models: the golden SD1.5 UNet's 4-wide heads), through the D = 8 kernel with the width a run-time
//   value ≤ 8: dims past it are zeros in registers and shared memory, so the arithmetic is the D = 8 kernel's.
// Other widths (the VAE's single 512-wide head) take the host's general path: GEMM, masked softmax, GEMM.
#include "ld_cuda.h"

// 16-byte shared-memory reads: one LDS.128 feeds 4 FMAs, so the inner loops are not bound by shared-memory issue.
struct __attribute__((aligned(16))) ld_f4 { float x, y, z, w; };

template <class T, int D, int BQ, int KT, int SUB>
LD_DEV void flash_impl(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, int dv, float scale, int causal, int sq, int skv)
{
    // dv ≤ D: the head's true width (the inputs' rows hold heads·dv elements); D for the fixed-width kernels.
    __shared__ __attribute__((aligned(16))) float ks[KT * D];
    __shared__ __attribute__((aligned(16))) float vs[KT * D];
    const int b = ld_bid_z(), h = ld_bid_y(), q0 = ld_bid_x() * BQ, tid = ld_tid(), i = q0 + tid;
    const long long width = (long long)heads * dv;
    const bool active = i < nq;

    // Scores are kept in the log2 domain: s·scale·log2(e), so the exponentials are single ex2 instructions.
    float qr[D], acc[D];
    const T* qp = q + ((long long)b * nq + (active ? i : 0)) * sq + (long long)h * dv;
    const float qscale = scale * LD_LOG2E;
#pragma unroll
    for (int t = 0; t < D; t++) { qr[t] = active && t < dv ? ld_load(qp + t) * qscale : 0.0f; acc[t] = 0.0f; }
    float m = LD_NEG_BIG, l = 0.0f;

    const T* kb = k + (long long)b * nk * skv + (long long)h * dv;
    const T* vb = v + (long long)b * nk * skv + (long long)h * dv;
    // With a causal mask no query of this block looks past key q0 + BQ − 1.
    const int kend = causal ? (nk < q0 + BQ ? nk : q0 + BQ) : nk;
    for (int j0 = 0; j0 < kend; j0 += KT)
    {
        ld_sync();  // every thread is done with the previous tile
        for (int e = tid; e < KT * D; e += BQ)
        {
            int jj = e / D, t = e - jj * D, j = j0 + jj;
            float kv = 0.0f, vv = 0.0f;
            if (j < nk && t < dv) { kv = ld_load(kb + (long long)j * skv + t); vv = ld_load(vb + (long long)j * skv + t); }
            ks[e] = kv;
            vs[e] = vv;
        }
        ld_sync();
        if (!active) continue;
        // Keys of this tile that this query may see.
        int valid = nk - j0 < KT ? nk - j0 : KT;
        if (causal && i - j0 + 1 < valid) valid = i - j0 + 1;
        for (int c0 = 0; c0 < valid; c0 += SUB)
        {
            float s[SUB], mnew = m;
#pragma unroll
            for (int u = 0; u < SUB; u++)
            {
                const ld_f4* kr = (const ld_f4*)(ks + (c0 + u) * D);
                float d = 0.0f;
#pragma unroll
                for (int t4 = 0; t4 < D / 4; t4++)
                {
                    ld_f4 kv = kr[t4];
                    d = ld_fma(qr[4 * t4], kv.x, d);
                    d = ld_fma(qr[4 * t4 + 1], kv.y, d);
                    d = ld_fma(qr[4 * t4 + 2], kv.z, d);
                    d = ld_fma(qr[4 * t4 + 3], kv.w, d);
                }
                s[u] = c0 + u < valid ? d : LD_NEG_BIG;
                mnew = ld_max(mnew, s[u]);
            }
            // Rescale what was accumulated under the old running maximum.
            float corr = ld_exp2(m - mnew);
            l *= corr;
#pragma unroll
            for (int t = 0; t < D; t++) acc[t] *= corr;
#pragma unroll
            for (int u = 0; u < SUB; u++)
            {
                float p = ld_exp2(s[u] - mnew);
                l += p;
                const ld_f4* vr = (const ld_f4*)(vs + (c0 + u) * D);
#pragma unroll
                for (int t4 = 0; t4 < D / 4; t4++)
                {
                    ld_f4 vv = vr[t4];
                    acc[4 * t4] = ld_fma(p, vv.x, acc[4 * t4]);
                    acc[4 * t4 + 1] = ld_fma(p, vv.y, acc[4 * t4 + 1]);
                    acc[4 * t4 + 2] = ld_fma(p, vv.z, acc[4 * t4 + 2]);
                    acc[4 * t4 + 3] = ld_fma(p, vv.w, acc[4 * t4 + 3]);
                }
            }
            m = mnew;
        }
    }
    if (!active) return;
    float inv = 1.0f / l;
    T* op = o + ((long long)b * nq + i) * width + (long long)h * dv;
#pragma unroll
    for (int t = 0; t < D; t++) if (t < dv) ld_store(op + t, acc[t] * inv);
}

// grid = (ceil(N / BQ), heads, B), block = BQ threads. BQ is 64 for D = 64 and 128 for D ≤ 8 (see CudaAttention).
#define LD_FLASH(T, S) \
    extern "C" __global__ void __launch_bounds__(64) ld_flash_d64_##S(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, float scale, \
        int causal, int sq, int skv) \
    { flash_impl<T, 64, 64, 32, 16>(q, k, v, o, nq, nk, heads, 64, scale, causal, sq, skv); } \
    extern "C" __global__ void __launch_bounds__(128) ld_flash_d8_##S(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, float scale, \
        int causal, int sq, int skv) \
    { flash_impl<T, 8, 128, 64, 16>(q, k, v, o, nq, nk, heads, 8, scale, causal, sq, skv); } \
    extern "C" __global__ void __launch_bounds__(128) ld_flash_small_##S(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, int d, \
        float scale, int causal, int sq, int skv) \
    { flash_impl<T, 8, 128, 64, 16>(q, k, v, o, nq, nk, heads, d, scale, causal, sq, skv); }
LD_FOR_TYPES(LD_FLASH)
