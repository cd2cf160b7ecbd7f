// Attention over a handful of keys (at most LD_FEWKEYS_MAX), any head width: SD1.5 attention sharing's temporal
// attention, where every token of every group attends across its F ≤ 3 frames: tens of thousands of batch entries,
// 1 to 3 keys, heads c/8 wide (40, 80, 160). The general path launches three kernels per batch entry; here one
// thread owns one (batch, query, head) row, keeps its scores in registers (fp32, log2 domain, max-subtracted), and
// writes the softmax-weighted sum of v. q [B, N, H·D] rows sq elements apart, k and v [B, M, H·D] rows skv apart,
// o [B, N, H·D] contiguous; launched as a 1-D grid-stride loop over B·N·H rows.
#include "ld_cuda.h"

#define LD_FEWKEYS_MAX 16

template <class T>
LD_DEV void fewkeys_impl(const T* q, const T* k, const T* v, T* o, int batch, int nq, int nk, int heads, int d, float scale, int sq, int skv)
{
    const long long rows = (long long)batch * nq * heads;
    const float qscale = scale * LD_LOG2E;
    LD_GRID_LOOP(r, rows)
    {
        const int h = (int)(r % heads);
        const long long bi = r / heads;  // b · nq + i
        const long long b = bi / nq;
        const T* qp = q + bi * sq + (long long)h * d;
        const T* kb = k + b * nk * skv + (long long)h * d;
        const T* vb = v + b * nk * skv + (long long)h * d;
        float s[LD_FEWKEYS_MAX];
        float m = LD_NEG_BIG;
#pragma unroll
        for (int j = 0; j < LD_FEWKEYS_MAX; j++)
        {
            s[j] = LD_NEG_BIG;
            if (j < nk)
            {
                const T* kp = kb + (long long)j * skv;
                float dot = 0.0f;
                for (int t = 0; t < d; t++) dot = ld_fma(ld_load(qp + t), ld_load(kp + t), dot);
                s[j] = dot * qscale;
                m = ld_max(m, s[j]);
            }
        }
        float l = 0.0f;
#pragma unroll
        for (int j = 0; j < LD_FEWKEYS_MAX; j++)
        {
            s[j] = j < nk ? ld_exp2(s[j] - m) : 0.0f;
            l += s[j];
        }
        const float inv = 1.0f / l;
        T* op = o + bi * (long long)heads * d + (long long)h * d;
        for (int t = 0; t < d; t++)
        {
            float acc = 0.0f;
#pragma unroll
            for (int j = 0; j < LD_FEWKEYS_MAX; j++)
                if (j < nk) acc = ld_fma(s[j], ld_load(vb + (long long)j * skv + t), acc);
            ld_store(op + t, acc * inv);
        }
    }
}

#define LD_FEWKEYS(T, S) \
    extern "C" __global__ void __launch_bounds__(256) ld_attn_fewkeys_##S(const T* q, const T* k, const T* v, T* o, int batch, int nq, int nk, \
        int heads, int d, float scale, int sq, int skv) \
    { fewkeys_impl<T>(q, k, v, o, batch, nq, nk, heads, d, scale, sq, skv); }
LD_FOR_TYPES(LD_FEWKEYS)
