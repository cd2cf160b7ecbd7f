// Tensor-core attention (mma.sync), in its own module so that a JIT problem with it cannot take the SIMT kernels
// of attention.cu down with it. Same contract as attention.cu's flash kernels.
#include "ld_cuda.h"

#define LD_NEG_BIG (-3.402823466e38f)

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
LD_DEV void flash_mma_impl(const T* q, const T* k, const T* v, T* o, int nq, int nk, int heads, float scale, int causal)
{
    __shared__ __attribute__((aligned(16))) unsigned short ks[LD_MMA_BK * LD_MMA_LD];
    __shared__ __attribute__((aligned(16))) unsigned short vt[LD_MMA_D * LD_MMA_LD];
    const int b = ld_bid_z(), h = ld_bid_y(), q0 = ld_bid_x() * LD_MMA_BQ, tid = ld_tid();
    const int warp = tid >> 5, lane = tid & 31, g = lane >> 2, t = lane & 3;
    const long long width = (long long)heads * LD_MMA_D;
    const int r0 = q0 + warp * 16 + g, r1 = r0 + 8;  // this thread's two query rows
    const T tag = T();

    // Q fragments for the 4 k-steps over the 64 dims, straight from global memory (zeros past the last query).
    unsigned qa[4][4];
    {
        const unsigned* q0p = (const unsigned*)(q + ((long long)b * nq + (r0 < nq ? r0 : 0)) * width + (long long)h * LD_MMA_D);
        const unsigned* q1p = (const unsigned*)(q + ((long long)b * nq + (r1 < nq ? r1 : 0)) * width + (long long)h * LD_MMA_D);
#pragma unroll
        for (int s = 0; s < 4; s++)
        {
            qa[s][0] = r0 < nq ? q0p[s * 8 + t] : 0u;
            qa[s][1] = r1 < nq ? q1p[s * 8 + t] : 0u;
            qa[s][2] = r0 < nq ? q0p[s * 8 + 4 + t] : 0u;
            qa[s][3] = r1 < nq ? q1p[s * 8 + 4 + t] : 0u;
        }
    }
    float acc[8][4];
#pragma unroll
    for (int n = 0; n < 8; n++) { acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f; }
    float m0 = LD_NEG_BIG, m1 = LD_NEG_BIG, l0 = 0.0f, l1 = 0.0f;
    const float sl2 = scale * LD_LOG2E;

    const T* kb = k + (long long)b * nk * width + (long long)h * LD_MMA_D;
    const T* vb = v + (long long)b * nk * width + (long long)h * LD_MMA_D;
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
                kw = *(const unsigned*)(kb + (long long)j * width + dp);
                vw = *(const unsigned*)(vb + (long long)j * width + dp);
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
        // Scale into the log2 domain, mask, and take the row maxima (a row lives on the 4 threads of a group).
        float mx0 = m0, mx1 = m1;
#pragma unroll
        for (int n = 0; n < 8; n++)
        {
#pragma unroll
            for (int c = 0; c < 4; c++)
            {
                int key = j0 + n * 8 + 2 * t + (c & 1), row = c < 2 ? r0 : r1;
                bool ok = key < nk && (!causal || key <= row);
                s[n][c] = ok ? s[n][c] * sl2 : LD_NEG_BIG;
            }
            mx0 = ld_max(mx0, ld_max(s[n][0], s[n][1]));
            mx1 = ld_max(mx1, ld_max(s[n][2], s[n][3]));
        }
        mx0 = ld_max(mx0, ld_shfl_xor(mx0, 1)); mx0 = ld_max(mx0, ld_shfl_xor(mx0, 2));
        mx1 = ld_max(mx1, ld_shfl_xor(mx1, 1)); mx1 = ld_max(mx1, ld_shfl_xor(mx1, 2));
        float c0 = ld_exp2(m0 - mx0), c1 = ld_exp2(m1 - mx1);
        m0 = mx0; m1 = mx1;
        l0 *= c0; l1 *= c1;
#pragma unroll
        for (int n = 0; n < 8; n++) { acc[n][0] *= c0; acc[n][1] *= c0; acc[n][2] *= c1; acc[n][3] *= c1; }

        // P = 2^(S − m) (masked entries exactly 0), then O += P·V over 4 k-steps of 16 keys.
        unsigned pa[4][4];
#pragma unroll
        for (int n = 0; n < 8; n++)
        {
            float p0 = s[n][0] == LD_NEG_BIG ? 0.0f : ld_exp2(s[n][0] - m0);
            float p1 = s[n][1] == LD_NEG_BIG ? 0.0f : ld_exp2(s[n][1] - m0);
            float p2 = s[n][2] == LD_NEG_BIG ? 0.0f : ld_exp2(s[n][2] - m1);
            float p3 = s[n][3] == LD_NEG_BIG ? 0.0f : ld_exp2(s[n][3] - m1);
            l0 += p0 + p1;
            l1 += p2 + p3;
            int st = n >> 1, hi = n & 1;
            pa[st][hi * 2 + 0] = ld_pack2(ld_bits(p0, tag), ld_bits(p1, tag));
            pa[st][hi * 2 + 1] = ld_pack2(ld_bits(p2, tag), ld_bits(p3, tag));
        }
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
    l0 += ld_shfl_xor(l0, 1); l0 += ld_shfl_xor(l0, 2);
    l1 += ld_shfl_xor(l1, 1); l1 += ld_shfl_xor(l1, 2);
    float i0 = 1.0f / l0, i1 = 1.0f / l1;
    T* o0 = o + ((long long)b * nq + r0) * width + (long long)h * LD_MMA_D;
    T* o1 = o + ((long long)b * nq + r1) * width + (long long)h * LD_MMA_D;
#pragma unroll
    for (int n = 0; n < 8; n++)
    {
        int d = n * 8 + 2 * t;
        if (r0 < nq) *(unsigned*)(o0 + d) = ld_pack2(ld_bits(acc[n][0] * i0, tag), ld_bits(acc[n][1] * i0, tag));
        if (r1 < nq) *(unsigned*)(o1 + d) = ld_pack2(ld_bits(acc[n][2] * i1, tag), ld_bits(acc[n][3] * i1, tag));
    }
}

// grid = (ceil(N / 64), heads, B), block = 128 threads.
extern "C" __global__ void __launch_bounds__(128) ld_flash_mma_d64_f16(const ld_half* q, const ld_half* k, const ld_half* v, ld_half* o, int nq, int nk, int heads, float scale, int causal)
{ flash_mma_impl<ld_half>(q, k, v, o, nq, nk, heads, scale, causal); }
extern "C" __global__ void __launch_bounds__(128) ld_flash_mma_d64_bf16(const ld_bf16* q, const ld_bf16* k, const ld_bf16* v, ld_bf16* o, int nq, int nk, int heads, float scale, int causal)
{ flash_mma_impl<ld_bf16>(q, k, v, o, nq, nk, heads, scale, causal); }
