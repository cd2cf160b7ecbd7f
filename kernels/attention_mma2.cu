// Tensor-core attention, pipelined: the FlashAttention-2 forward structure for head width 64 in fp16 / bf16.
// Same contract as attention_mma.cu (q [B, N, H·64], k and v [B, M, H·64], o like q; scale; causal masks key > query)
// and the same arithmetic per tile (S in fp32 accumulators, online softmax in the log2 domain, P rounded to the
// storage type for O += P·V), so results agree with it to rounding. What changes is how the tiles move:
//   - K and V tiles of 64 keys go global → shared with cp.async (16 bytes a copy, no registers on the way), two
//     stages deep: tile j + 1 is in flight while tile j is multiplied. Keys past the end arrive as zeros.
//   - Both tiles stay row-major [key][dim] in shared memory (rows padded to 72 halves = 144 bytes, so the 8 row
//     addresses of one ldmatrix fall on 8 distinct 4-bank groups); ldmatrix.x4 feeds K's B fragments for Q·Kᵀ, and
//     ldmatrix.x4.trans feeds V's for P·V, so V is never transposed by hand (attention_mma.cu's 16-bit scattered
//     stores were its slowest part).
//   - WARPS warps × 16 query rows per block share each K/V tile (8 warps: 128 queries, half the tile traffic of 64).
// Module of its own, so that a JIT problem here cannot take the first tensor-core kernel down with it.
#include "ld_cuda.h"

#define LD_M2_BK 64   // keys per tile
#define LD_M2_D 64    // head width
#define LD_M2_LD 72   // shared row pitch in halves

/// One K tile and one V tile (keys j0.. j0 + 63) into shared memory: 64 rows × 8 chunks of 16 bytes each.
template <class T, int THREADS>
LD_DEV void m2_load_tile(unsigned short* ks, unsigned short* vs, const T* kb, const T* vb, long long skv, int j0, int nk, int tid)
{
    static_assert(LD_M2_BK * 8 % THREADS == 0, "whole chunks per thread");
#pragma unroll
    for (int i = 0; i < LD_M2_BK * 8 / THREADS; i++)
    {
        int c = tid + i * THREADS, row = c >> 3, col = (c & 7) * 8, j = j0 + row;
        bool ok = j < nk;
        long long off = (long long)(ok ? j : 0) * skv + col;  // a valid address even when nothing is read
        ld_cp_async16(ks + row * LD_M2_LD + col, kb + off, ok);
        ld_cp_async16(vs + row * LD_M2_LD + col, vb + off, ok);
    }
}

template <class T, int WARPS>
LD_DEV void flash_mma2_impl(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, float scale, int causal, int sq, int skv)
{
    constexpr int BQ = WARPS * 16, THREADS = WARPS * 32;
    __shared__ __attribute__((aligned(128))) unsigned short ks[2][LD_M2_BK * LD_M2_LD];
    __shared__ __attribute__((aligned(128))) unsigned short vs[2][LD_M2_BK * LD_M2_LD];
    const int b = ld_bid_z(), h = ld_bid_y(), q0 = ld_bid_x() * BQ, tid = ld_tid();
    const int warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    const long long width = (long long)heads * LD_M2_D;
    const int r0 = q0 + warp * 16 + g, r1 = r0 + 8;  // this thread's two query rows
    const T tag = T();

    const T* kb = k + (long long)b * nk * skv + (long long)h * LD_M2_D;
    const T* vb = v + (long long)b * nk * skv + (long long)h * LD_M2_D;
    const int kend = causal ? (nk < q0 + BQ ? nk : q0 + BQ) : nk;
    const int tiles = (kend + LD_M2_BK - 1) / LD_M2_BK;

    // Prologue: the first tile is on its way while Q's fragments are read.
    m2_load_tile<T, THREADS>(ks[0], vs[0], kb, vb, skv, 0, nk, tid);
    ld_cp_async_commit();

    unsigned qa[4][4];
    ld_flash_load_q(qa, q + (long long)b * nq * sq + (long long)h * LD_M2_D, sq, r0, r1, nq, t);
    float acc[8][4];
#pragma unroll
    for (int n = 0; n < 8; n++) { acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f; }
    float m0 = LD_NEG_BIG, m1 = LD_NEG_BIG, l0 = 0.0f, l1 = 0.0f;
    const float sl2 = scale * LD_LOG2E;

    for (int it = 0; it < tiles; it++)
    {
        const int stage = it & 1, j0 = it * LD_M2_BK;
        ld_pipeline_next(it, tiles, [&](int st, int tile) { m2_load_tile<T, THREADS>(ks[st], vs[st], kb, vb, skv, tile * LD_M2_BK, nk, tid); });
        float s[8][4];
        ld_flash_qk64<LD_M2_LD>(s, qa, ks[stage], lane, tag);  // S = Q·Kᵀ
        unsigned pa[4][4];
        ld_flash_softmax<T>(s, acc, pa, m0, m1, l0, l1, j0, r0, r1, t, nk, causal, sl2);
        ld_flash_pv64<LD_M2_LD>(acc, pa, vs[stage], lane, tag);  // O += P·V
        ld_sync();  // every warp is done with this stage before the next iteration refills it
    }
    ld_flash_store(o + (long long)b * nq * width + (long long)h * LD_M2_D, width, acc, l0, l1, r0, r1, nq, t);
}

// grid = (ceil(N / (16 · WARPS)), heads, B), block = 32 · WARPS threads; every pointer 16-byte aligned.
// The second launch bound keeps registers at ≤ 128 a thread, so two 8-warp blocks (or four 4-warp ones) share an SM.
#define LD_FLASH_MMA2(T, S) \
    extern "C" __global__ void __launch_bounds__(256, 2) ld_flash_mma2_d64_w8_##S(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, \
        float scale, int causal, int sq, int skv) \
    { flash_mma2_impl<T, 8>(q, k, v, o, nq, nk, heads, scale, causal, sq, skv); } \
    extern "C" __global__ void __launch_bounds__(128, 4) ld_flash_mma2_d64_w4_##S(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, \
        float scale, int causal, int sq, int skv) \
    { flash_mma2_impl<T, 4>(q, k, v, o, nq, nk, heads, scale, causal, sq, skv); }
LD_FLASH_MMA2(ld_half, f16)
LD_FLASH_MMA2(ld_bf16, bf16)
