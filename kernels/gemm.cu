// A plain GEMM with cuBLAS's column-major contract, used only when cuBLASLt's heuristic has no algorithm for a
// shape (odd leading dimensions or alignments): D[m, n] = alpha · op(A)·op(B) + beta · D (+ bias[m]) per batch,
// fp32 accumulation. One thread per output element; correctness, not speed, is its job.
#include "ld_cuda.h"

template <class T, class TD>
LD_DEV void gemm_impl(int transa, int transb, long long m, long long n, long long k,
                      const T* a, long long lda, long long stride_a, const T* b, long long ldb, long long stride_b,
                      TD* d, long long ldd, long long stride_d, int batch, const TD* bias, float alpha, float beta)
{
    long long per = m * n, total = per * batch;
    LD_GRID_LOOP(e, total)
    {
        long long bt = e / per, rem = e - bt * per;
        long long j = rem / m, i = rem - j * m;
        const T* ab = a + bt * stride_a;
        const T* bb = b + bt * stride_b;
        float s = 0.0f;
        for (long long l = 0; l < k; l++)
        {
            float av = ld_load(transa ? ab + l + i * lda : ab + i + l * lda);
            float bv = ld_load(transb ? bb + j + l * ldb : bb + l + j * ldb);
            s = ld_fma(av, bv, s);
        }
        TD* dp = d + bt * stride_d + i + j * ldd;
        float v = alpha * s;
        if (beta != 0.0f) v = ld_fma(beta, ld_load(dp), v);
        if (bias) v += ld_load(bias + i);
        ld_store(dp, v);
    }
}

#define LD_GEMM(T, S) \
    extern "C" __global__ void ld_gemm_##S(int transa, int transb, long long m, long long n, long long k, \
        const T* a, long long lda, long long stride_a, const T* b, long long ldb, long long stride_b, \
        T* d, long long ldd, long long stride_d, int batch, const T* bias, float alpha, float beta) \
    { gemm_impl<T, T>(transa, transb, m, n, k, a, lda, stride_a, b, ldb, stride_b, d, ldd, stride_d, batch, bias, alpha, beta); } \
    extern "C" __global__ void ld_gemm_##S##_out_f32(int transa, int transb, long long m, long long n, long long k, \
        const T* a, long long lda, long long stride_a, const T* b, long long ldb, long long stride_b, \
        float* d, long long ldd, long long stride_d, int batch, const float* bias, float alpha, float beta) \
    { gemm_impl<T, float>(transa, transb, m, n, k, a, lda, stride_a, b, ldb, stride_b, d, ldd, stride_d, batch, bias, alpha, beta); }
LD_FOR_TYPES(LD_GEMM)
