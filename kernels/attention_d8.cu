// Tensor-core attention for head width 8 (the transparent decoder's 8-wide heads) in fp16 / bf16: the
// FlashAttention-2 structure of attention_mma2.cu with the head's 8 dims as one k-step. Same contract as
// attention.cu's flash kernels (q rows sq elements apart, k and v rows skv apart, o [B, N, H·8]).
//   - Q·Kᵀ on mma.m16n8k8: A = a warp's 16 queries × 8 dims (2 registers straight from global memory), B = 8 keys
//     × 8 dims; one ldmatrix.x4 gives the B fragments of 4 n-tiles (32 keys).
//   - P·V on mma.m16n8k16: A = P (16 queries × 16 keys, from the online softmax), B = 16 keys × the 8 dims, from
//     ldmatrix.x4.trans over V's rows (each key's 8 dims are one 16-byte row), so V is never transposed by hand.
//   - K and V tiles of 64 keys (1 KiB each) go global → shared by cp.async, one 16-byte row per key, two stages
//     deep; WARPS warps (16 queries each) share every tile.
// With 8 dims the work per key is tiny: the exponentials (one per score) bound it, not the tensor cores.
#include "ld_cuda.h"

#define LD_D8_BK 64   // keys per tile

/// K and V rows j0 .. j0 + 63 into shared memory (keys past nk as zeros): one cp.async of 16 bytes per row.
template <class T, int THREADS>
LD_DEV void d8_load_tile(unsigned short* ks, unsigned short* vs, const T* kb, const T* vb, long long skv, int j0, int nk, int tid)
{
    static_assert(THREADS >= LD_D8_BK, "one row per thread");
    if (tid < LD_D8_BK)
    {
        int j = j0 + tid;
        bool ok = j < nk;
        long long off = (long long)(ok ? j : 0) * skv;  // a valid address even when nothing is read
        ld_cp_async16(ks + tid * 8, kb + off, ok);
        ld_cp_async16(vs + tid * 8, vb + off, ok);
    }
}

template <class T, int WARPS>
LD_DEV void flash_d8_impl(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, float scale, int causal, int sq, int skv)
{
    constexpr int BQ = WARPS * 16, THREADS = WARPS * 32;
    __shared__ __attribute__((aligned(128))) unsigned short ks[2][LD_D8_BK * 8];
    __shared__ __attribute__((aligned(128))) unsigned short vs[2][LD_D8_BK * 8];
    const int b = ld_bid_z(), h = ld_bid_y(), q0 = ld_bid_x() * BQ, tid = ld_tid();
    const int warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    const int r0 = q0 + warp * 16 + g, r1 = r0 + 8;
    const T tag = T();

    const T* kb = k + (long long)b * nk * skv + (long long)h * 8;
    const T* vb = v + (long long)b * nk * skv + (long long)h * 8;
    const int kend = causal ? (nk < q0 + BQ ? nk : q0 + BQ) : nk;
    const int tiles = (kend + LD_D8_BK - 1) / LD_D8_BK;

    d8_load_tile<T, THREADS>(ks[0], vs[0], kb, vb, skv, 0, nk, tid);
    ld_cp_async_commit();

    // Q's A fragment: rows r0 and r1, dims 2t and 2t + 1 (zeros past the last query).
    const T* qh = q + (long long)b * nq * sq + (long long)h * 8;
    unsigned qa[2];
    qa[0] = r0 < nq ? *(const unsigned*)(qh + (long long)r0 * sq + 2 * t) : 0u;
    qa[1] = r1 < nq ? *(const unsigned*)(qh + (long long)r1 * sq + 2 * t) : 0u;
    float acc[1][4] = { { 0.0f, 0.0f, 0.0f, 0.0f } };
    float m0 = LD_NEG_BIG, m1 = LD_NEG_BIG, l0 = 0.0f, l1 = 0.0f;
    const float sl2 = scale * LD_LOG2E;

    for (int it = 0; it < tiles; it++)
    {
        const int stage = it & 1, j0 = it * LD_D8_BK;
        ld_pipeline_next(it, tiles, [&](int st, int tile) { d8_load_tile<T, THREADS>(ks[st], vs[st], kb, vb, skv, tile * LD_D8_BK, nk, tid); });
        const unsigned short* kt = ks[stage];
        const unsigned short* vt = vs[stage];

        // S = Q·Kᵀ: matrix j of an ldmatrix.x4 = keys p·32 + 8j .. +8 (lane 8j + i addresses key row i), so r[j]
        // holds key p·32 + 8j + g, dims 2t..2t+1: the B fragment of n-tile 4p + j.
        float s[8][4];
#pragma unroll
        for (int p = 0; p < 2; p++)
        {
            unsigned r[4];
            ld_ldmatrix_x4(r, kt + (p * 32 + lane) * 8);
#pragma unroll
            for (int j = 0; j < 4; j++)
            {
                float* sn = s[p * 4 + j];
                sn[0] = sn[1] = sn[2] = sn[3] = 0.0f;
                ld_mma_k8(sn, qa, r[j], tag);
            }
        }
        unsigned pa[4][4];
        ld_flash_softmax<T>(s, acc, pa, m0, m1, l0, l1, j0, r0, r1, t, nk, causal, sl2);
        // O += P·V: with .trans, r[j] holds keys p·32 + 8j + 2t, +1 of dim g: k-step 2p uses (r[0], r[1]), 2p + 1 (r[2], r[3]).
#pragma unroll
        for (int p = 0; p < 2; p++)
        {
            unsigned r[4];
            ld_ldmatrix_x4_trans(r, vt + (p * 32 + lane) * 8);
            ld_mma(acc[0], pa[2 * p], r[0], r[1], tag);
            ld_mma(acc[0], pa[2 * p + 1], r[2], r[3], tag);
        }
        ld_sync();  // every warp is done with this stage before the next iteration refills it
    }
    ld_flash_store(o + (long long)b * nq * heads * 8 + (long long)h * 8, (long long)heads * 8, acc, l0, l1, r0, r1, nq, t);
}

// grid = (⌈N / 128⌉, heads, B), block = 256 threads; q, k, v 16-byte aligned with sq, skv multiples of 8.
#define LD_FLASH_D8_MMA(T, S) \
    extern "C" __global__ void __launch_bounds__(256) ld_flash_mma_d8_##S(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, \
        float scale, int causal, int sq, int skv) \
    { flash_d8_impl<T, 8>(q, k, v, o, nq, nk, heads, scale, causal, sq, skv); }
LD_FLASH_D8_MMA(ld_half, f16)
LD_FLASH_D8_MMA(ld_bf16, bf16)
