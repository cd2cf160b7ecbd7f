// A fake cuBLASLt (the subset CublasLt.cs resolves): the matrix product computed in double on the host, after
// checking that the descriptors are consistent (op(A) m×k, op(B) k×n, D m×n, leading dimensions ≥ rows, equal batch
// counts), so a wrong parameterisation in the backend fails here with a message instead of reading wrong memory.
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <functional>
#include <immintrin.h>
#include <vector>

namespace {

struct Desc { int transa = 0, transb = 0, epilogue = 1; unsigned long long bias = 0; int compute = 0, scale = 0; };
struct Layout { int type; uint64_t rows, cols; int64_t ld; int batch = 1; int64_t stride = 0; };

double load(const void* p, int type, int64_t i)
{
    switch (type)
    {
        case 0: return ((const float*)p)[i];
        case 2: return _cvtsh_ss(((const uint16_t*)p)[i]);
        case 14: { uint32_t u = (uint32_t)((const uint16_t*)p)[i] << 16; float f; std::memcpy(&f, &u, 4); return f; }
    }
    return NAN;
}

void store(void* p, int type, int64_t i, double v)
{
    float f = (float)v;
    switch (type)
    {
        case 0: ((float*)p)[i] = f; break;
        case 2: ((uint16_t*)p)[i] = (uint16_t)_cvtss_sh(f, 0); break;
        case 14:
        {
            uint32_t u; std::memcpy(&u, &f, 4);
            u += 0x7fffu + ((u >> 16) & 1u);
            ((uint16_t*)p)[i] = (uint16_t)(u >> 16);
            break;
        }
    }
}

int fail(const char* what)
{
    std::fprintf(stderr, "fake cublasLtMatmul: %s\n", what);
    return 7;  // CUBLAS_STATUS_INVALID_VALUE
}

// D = alpha·op(A)·op(B) + beta·C (+ bias), in double.
int multiply(const Desc* d, const Layout* a, const Layout* b, const Layout* c, const Layout* o, const float* alpha, const float* beta,
             const void* A, const void* B, const void* C, void* D, uint64_t m, uint64_t n, uint64_t k);

}  // namespace

int ld_emu_submit(void* stream, const char* name, std::function<int()> op);  // fake_cuda.cpp

extern "C" {

int cublasLtCreate(void** h) { *h = (void*)0x10; return 0; }
int cublasLtDestroy(void*) { return 0; }
size_t cublasLtGetVersion() { return 130100; }
const char* cublasLtGetStatusName(int s) { return s == 0 ? "CUBLAS_STATUS_SUCCESS" : s == 7 ? "CUBLAS_STATUS_INVALID_VALUE" : "CUBLAS_STATUS_NOT_SUPPORTED"; }

int cublasLtMatmulDescCreate(void** d, int compute, int scale) { auto* x = new Desc(); x->compute = compute; x->scale = scale; *d = x; return 0; }
int cublasLtMatmulDescDestroy(void* d) { delete (Desc*)d; return 0; }
int cublasLtMatmulDescSetAttribute(void* d, int attr, const void* buf, size_t size)
{
    auto* x = (Desc*)d;
    switch (attr)
    {
        case 3: std::memcpy(&x->transa, buf, 4); break;
        case 4: std::memcpy(&x->transb, buf, 4); break;
        case 7: std::memcpy(&x->epilogue, buf, 4); break;
        case 8: std::memcpy(&x->bias, buf, 8); break;
        default: return size ? 0 : 7;
    }
    return 0;
}

int cublasLtMatrixLayoutCreate(void** l, int type, uint64_t rows, uint64_t cols, int64_t ld)
{
    if (ld < (int64_t)rows) return fail("leading dimension smaller than the row count");
    *l = new Layout{type, rows, cols, ld};
    return 0;
}
int cublasLtMatrixLayoutDestroy(void* l) { delete (Layout*)l; return 0; }
int cublasLtMatrixLayoutSetAttribute(void* l, int attr, const void* buf, size_t)
{
    auto* x = (Layout*)l;
    if (attr == 5) std::memcpy(&x->batch, buf, 4);
    else if (attr == 6) std::memcpy(&x->stride, buf, 8);
    return 0;
}

int cublasLtMatmulPreferenceCreate(void** p) { *p = new int(0); return 0; }
int cublasLtMatmulPreferenceDestroy(void* p) { delete (int*)p; return 0; }
int cublasLtMatmulPreferenceSetAttribute(void*, int, const void*, size_t) { return 0; }

// Three candidates, like the real heuristic's several (the engine times them and keeps one): algo.data[0] marks
// each (1000 + i), workspace 0, state success. cublasLtMatmul refuses any other algorithm.
const uint64_t kAlgoMark = 1000;
const int kCandidates = 3;

int cublasLtMatmulAlgoGetHeuristic(void*, void*, void*, void*, void*, void*, void*, int requested, void* results, int* found)
{
    std::memset(results, 0, 96 * (size_t)requested);  // cublasLtMatmulHeuristicResult_t is 96 bytes
    *found = requested < kCandidates ? requested : kCandidates;
    for (int i = 0; i < *found; i++) ((uint64_t*)((char*)results + 96 * i))[0] = kAlgoMark + i;
    return 0;
}

// Round to nearest (ties away) to a float with 10 stored mantissa bits, as the TF32 conversion does.
static float to_tf32(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;
    std::memcpy(&f, &u, 4);
    return f;
}

int cublasLtMatmul(void*, void* descp, const float* alpha, const void* A, void* Ap, const void* B, void* Bp,
                   const float* beta, const void* C, void* Cp, void* D, void* Dp, const void* algo, void*, size_t, void* stream)
{
    uint64_t mark = algo ? ((const uint64_t*)algo)[0] : 0;
    if (mark < kAlgoMark || mark >= kAlgoMark + kCandidates) return fail("an algorithm the heuristic did not return");
    auto* d = (Desc*)descp;
    auto *a = (Layout*)Ap, *b = (Layout*)Bp, *c = (Layout*)Cp, *o = (Layout*)Dp;
    uint64_t m = o->rows, n = o->cols;
    uint64_t am = d->transa ? a->cols : a->rows, k = d->transa ? a->rows : a->cols;
    uint64_t bk = d->transb ? b->cols : b->rows, bn = d->transb ? b->rows : b->cols;
    if (am != m) return fail("op(A) rows differ from D rows");
    if (bn != n) return fail("op(B) columns differ from D columns");
    if (bk != k) return fail("op(A) columns differ from op(B) rows");
    if (a->type != b->type) return fail("A and B types differ");
    if (c != o && (c->rows != o->rows || c->cols != o->cols)) return fail("C and D shapes differ");
    if (a->batch != o->batch || b->batch != o->batch) return fail("batch counts differ");
    // Checked now, computed now or (on a capturing stream) at every graph launch, from copies of the descriptors
    // and host scalars as cuBLASLt bakes them into its kernels' parameters.
    return ld_emu_submit(stream, "cublasLtMatmul", [dc = *d, ac = *a, bc = *b, cc = *c, oc = *o, al = *alpha, be = *beta, A, B, C, D, m, n, k] {
        return multiply(&dc, &ac, &bc, &cc, &oc, &al, &be, A, B, C, D, m, n, k);
    });
}

}  // extern "C"

namespace {
int multiply(const Desc* d, const Layout* a, const Layout* b, const Layout* c, const Layout* o, const float* alpha, const float* beta,
             const void* A, const void* B, const void* C, void* D, uint64_t m, uint64_t n, uint64_t k)
{
    int es_ab = a->type == 0 ? 4 : 2, es_d = o->type == 0 ? 4 : 2;
    std::vector<double> opa(m * k), opb(k * n);  // op(A) row-major m×k, op(B) column by column (n × k)
    for (int bt = 0; bt < o->batch; bt++)
    {
        const char* ab = (const char*)A + (int64_t)bt * a->stride * es_ab;
        const char* bb = (const char*)B + (int64_t)bt * b->stride * es_ab;
        char* db = (char*)D + (int64_t)bt * o->stride * es_d;
        const char* cb = (const char*)C + (int64_t)bt * c->stride * es_d;
        for (uint64_t i = 0; i < m; i++)
            for (uint64_t l = 0; l < k; l++)
                opa[i * k + l] = d->transa ? load(ab, a->type, (int64_t)(l + i * a->ld)) : load(ab, a->type, (int64_t)(i + l * a->ld));
        for (uint64_t j = 0; j < n; j++)
            for (uint64_t l = 0; l < k; l++)
                opb[j * k + l] = d->transb ? load(bb, b->type, (int64_t)(j + l * b->ld)) : load(bb, b->type, (int64_t)(l + j * b->ld));
        if (d->compute == 77)  // CUBLAS_COMPUTE_32F_FAST_TF32: fp32 operands rounded to TF32 (10 mantissa bits)
        {
            for (auto& v : opa) v = to_tf32((float)v);
            for (auto& v : opb) v = to_tf32((float)v);
        }
        for (uint64_t j = 0; j < n; j++)
            for (uint64_t i = 0; i < m; i++)
            {
                const double* ar = &opa[i * k];
                const double* bc = &opb[j * k];
                double s = 0;
                for (uint64_t l = 0; l < k; l++) s += ar[l] * bc[l];
                double v = *alpha * s;
                if (*beta != 0.0f) v += *beta * load(cb, o->type, (int64_t)(i + j * o->ld));
                if (d->epilogue == 4) v += load((const void*)d->bias, o->type, (int64_t)i);
                store(db, o->type, (int64_t)(i + j * o->ld), v);
            }
    }
    return 0;
}
}  // namespace

