// Tensor-core attention (mma.sync), in its own module so that a JIT problem with it cannot take the SIMT kernels
// of attention.cu down with it. Same contract as attention.cu's flash kernels (row strides sq, skv included).
#include "ld_cuda.h"

// ---- tensor-core path for fp16 / bf16, head width 64 (FlashAttention-2 layout on mma.sync.m16n8k16).
// Block = 4 warps = 64 queries (16 per warp); key tiles of 64 in shared memory (K as [key][dim], V transposed to
// [dim][key], rows padded to 72 halves so the fragment loads hit 32 distinct banks). Per warp and tile:
// S = Q·Kᵀ (16×64, fp32 accumulators), online softmax in fp32 on the accumulators, P rounded to the storage type
// and fed back as the A operand of O += P·V. Fragment layouts follow the PTX ISA's m16n8k16 description:
// g = lane / 4, t = lane % 4; A regs: (g, 2t..2t+1), (g+8, 2t..), (g, 2t+8..), (g+8, 2t+8..);
// B regs: (k 2t..2t+1, n g), (k 2t+8.., n g); C: (g, 2t..2t+1), (g+8, 2t..2t+1).
#define LD_MMA_BQ 64
#define LD_MMA_BK 64
#define LD_MMA_D 64
#define LD_MMA_LD 72

template <class T>
LD_DEV void flash_mma_impl(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, float scale, int causal, int sq, int skv)
{
    __shared__ __attribute__((aligned(16))) unsigned short ks[LD_MMA_BK * LD_MMA_LD];
    __shared__ __attribute__((aligned(16))) unsigned short vt[LD_MMA_D * LD_MMA_LD];
    const int b = ld_bid_z(), h = ld_bid_y(), q0 = ld_bid_x() * LD_MMA_BQ, tid = ld_tid();
    const int warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    const long long width = (long long)heads * LD_MMA_D;
    const int r0 = q0 + warp * 16 + g, r1 = r0 + 8;  // this thread's two query rows
    const T tag = T();

    unsigned qa[4][4];
    ld_flash_load_q(qa, q + (long long)b * nq * sq + (long long)h * LD_MMA_D, sq, r0, r1, nq, t);
    float acc[8][4];
#pragma unroll
    for (int n = 0; n < 8; n++) { acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f; }
    float m0 = LD_NEG_BIG, m1 = LD_NEG_BIG, l0 = 0.0f, l1 = 0.0f;
    const float sl2 = scale * LD_LOG2E;

    const T* kb = k + (long long)b * nk * skv + (long long)h * LD_MMA_D;
    const T* vb = v + (long long)b * nk * skv + (long long)h * LD_MMA_D;
    const int kend = causal ? (nk < q0 + LD_MMA_BQ ? nk : q0 + LD_MMA_BQ) : nk;
    for (int j0 = 0; j0 < kend; j0 += LD_MMA_BK)
    {
        ld_sync();
        // 64 keys × 32 dim pairs: 2048 32-bit words, 16 per thread. Keys past the end load as zeros.
        for (int e = tid; e < LD_MMA_BK * (LD_MMA_D / 2); e += 128)
        {
            int key = e >> 5, dp = (e & 31) * 2, j = j0 + key;
            unsigned kw = 0u, vw = 0u;
            if (j < nk)
            {
                kw = *(const unsigned*)(kb + (long long)j * skv + dp);
                vw = *(const unsigned*)(vb + (long long)j * skv + dp);
            }
            *(unsigned*)(ks + key * LD_MMA_LD + dp) = kw;
            vt[dp * LD_MMA_LD + key] = (unsigned short)(vw & 0xffffu);
            vt[(dp + 1) * LD_MMA_LD + key] = (unsigned short)(vw >> 16);
        }
        ld_sync();

        // S = Q·Kᵀ for 8 n-tiles of 8 keys.
        float s[8][4];
#pragma unroll
        for (int n = 0; n < 8; n++)
        {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
            const unsigned short* kr = ks + (n * 8 + g) * LD_MMA_LD;
#pragma unroll
            for (int st = 0; st < 4; st++)
            {
                unsigned b0 = *(const unsigned*)(kr + st * 16 + 2 * t);
                unsigned b1 = *(const unsigned*)(kr + st * 16 + 8 + 2 * t);
                ld_mma(s[n], qa[st], b0, b1, tag);
            }
        }
        unsigned pa[4][4];
        ld_flash_softmax<T>(s, acc, pa, m0, m1, l0, l1, j0, r0, r1, t, nk, causal, sl2);
#pragma unroll
        for (int n = 0; n < 8; n++)
        {
            const unsigned short* vr = vt + (n * 8 + g) * LD_MMA_LD;
#pragma unroll
            for (int st = 0; st < 4; st++)
            {
                unsigned b0 = *(const unsigned*)(vr + st * 16 + 2 * t);
                unsigned b1 = *(const unsigned*)(vr + st * 16 + 8 + 2 * t);
                ld_mma(acc[n], pa[st], b0, b1, tag);
            }
        }
    }
    ld_flash_store(o + (long long)b * nq * width + (long long)h * LD_MMA_D, width, acc, l0, l1, r0, r1, nq, t);
}

// grid = (ceil(N / 64), heads, B), block = 128 threads.
extern "C" __global__ void __launch_bounds__(128) ld_flash_mma_d64_f16(const ld_half* q, const ld_half* k, const ld_half* v, ld_half* o, int nq, int nk, int heads,
    float scale, int causal, int sq, int skv)
{ flash_mma_impl<ld_half>(q, k, v, o, nq, nk, heads, scale, causal, sq, skv); }
extern "C" __global__ void __launch_bounds__(128) ld_flash_mma_d64_bf16(const ld_bf16* q, const ld_bf16* k, const ld_bf16* v, ld_bf16* o, int nq, int nk, int heads,
    float scale, int causal, int sq, int skv)
{ flash_mma_impl<ld_bf16>(q, k, v, o, nq, nk, heads, scale, causal, sq, skv); }
