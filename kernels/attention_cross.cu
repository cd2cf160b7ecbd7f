// Tensor-core attention for few keys (≤ 80: SDXL's 77-token cross-attention, CLIP's 77×77 causal self-attention),
// head width 64, fp16 / bf16. Same contract as attention.cu's flash kernels (row strides sq, skv). With every key in
// one tile there is nothing to stream: a block loads its (batch, head)'s K and V once (cp.async, zeros past nk up
// to 80 keys) and its warps then take 16 queries at a time from the block's range, each with a single softmax
// pass over 10 n-tiles of 8 keys (5 k-steps of 16 for P·V), against the 64-key tiles of attention_mma*.cu that
// would spend 40 % of a 128-key pair of tiles on padding and reload K and V for every 64 or 128 queries.
#include "ld_cuda.h"

#define LD_X_NT 10   // n-tiles of 8 keys: at most 80 keys
#define LD_X_LD 72   // shared row pitch in halves (ldmatrix rows on distinct bank groups, as attention_mma2.cu)

template <class T, int WARPS, int GROUPS>
LD_DEV void flash_cross_impl(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, float scale, int causal, int sq, int skv)
{
    constexpr int THREADS = WARPS * 32, BQ = WARPS * GROUPS * 16, KEYS = LD_X_NT * 8;
    __shared__ __attribute__((aligned(128))) unsigned short ks[KEYS * LD_X_LD];
    __shared__ __attribute__((aligned(128))) unsigned short vs[KEYS * LD_X_LD];
    const int b = ld_bid_z(), h = ld_bid_y(), tid = ld_tid();
    const int warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    const T tag = T();

    const T* kb = k + (long long)b * nk * skv + (long long)h * 64;
    const T* vb = v + (long long)b * nk * skv + (long long)h * 64;
    for (int c = tid; c < KEYS * 8; c += THREADS)
    {
        int row = c >> 3, col = (c & 7) * 8;
        bool ok = row < nk;
        long long off = (long long)(ok ? row : 0) * skv + col;
        ld_cp_async16(ks + row * LD_X_LD + col, kb + off, ok);
        ld_cp_async16(vs + row * LD_X_LD + col, vb + off, ok);
    }
    ld_cp_async_commit();
    ld_cp_async_wait<0>();
    ld_sync();

    const T* qh = q + (long long)b * nq * sq + (long long)h * 64;
    T* oh = o + (long long)b * nq * heads * 64 + (long long)h * 64;
    const float sl2 = scale * LD_LOG2E;
    for (int grp = warp; grp < WARPS * GROUPS; grp += WARPS)
    {
        const int r0 = ld_bid_x() * BQ + grp * 16 + g, r1 = r0 + 8;
        if (r0 - g >= nq) break;  // the warp's whole group is past the end (uniform over the warp)
        unsigned qa[4][4];
        ld_flash_load_q(qa, qh, sq, r0, r1, nq, t);
        float s[LD_X_NT][4];
        ld_flash_qk64<LD_X_LD>(s, qa, ks, lane, tag);  // S = Q·Kᵀ over all keys at once
        float acc[8][4];
#pragma unroll
        for (int n = 0; n < 8; n++) { acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f; }
        float m0 = LD_NEG_BIG, m1 = LD_NEG_BIG, l0 = 0.0f, l1 = 0.0f;
        unsigned pa[LD_X_NT / 2][4];
        ld_flash_softmax<T>(s, acc, pa, m0, m1, l0, l1, 0, r0, r1, t, nk, causal, sl2);
        ld_flash_pv64<LD_X_LD>(acc, pa, vs, lane, tag);  // O = P·V
        ld_flash_store(oh, (long long)heads * 64, acc, l0, l1, r0, r1, nq, t);
    }
}

// grid = (⌈N / 256⌉, heads, B), block = 128 threads (4 warps × 4 groups of 16 queries); nk ≤ 80; q, k, v 16-byte
// aligned with sq, skv multiples of 8.
#define LD_FLASH_CROSS(T, S) \
    extern "C" __global__ void __launch_bounds__(128) ld_flash_cross_d64_##S(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, \
        float scale, int causal, int sq, int skv) \
    { flash_cross_impl<T, 4, 4>(q, k, v, o, nq, nk, heads, scale, causal, sq, skv); }
LD_FLASH_CROSS(ld_half, f16)
LD_FLASH_CROSS(ld_bf16, bf16)
