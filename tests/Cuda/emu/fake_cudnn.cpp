// A fake cuDNN 9 (the subset Interop/CudnnApi.cs resolves) for the emulated GPU: it checks every descriptor and call
// as strictly as the real library documents (object kinds, dims, the output shape, data-type configurations, math
// types, the algorithm/activation combinations cuDNN rejects, workspace sizes, device pointer ranges, aliasing) and
// computes the convolution on the host in the descriptors' layout and data type: fp16/bf16 storage, fp32 accumulation
// (here double), the epilogue alpha1·conv + alpha2·z + bias, one rounding to the output type. Where the hardware may
// take liberties it takes the worst one: fp32 with CUDNN_DEFAULT_MATH or CUDNN_TENSOR_OP_MATH rounds operands to TF32
// (cuDNN permits TF32 there on Ampere and newer), and a half compute type rounds every partial sum to fp16.
// Its algorithm table (which algorithm supports what, their workspaces and "times") is a model, not cuDNN's:
// documented below; Find reports those times and overwrites y with NaNs, as a real search leaves garbage there.
// Test switches: LDEMU_CUDNN_TRACE=1 prints each search and forward call on stderr; LDEMU_CUDNN_FAIL=name[:status]
// makes that function return the status (default 5000, CUDNN_STATUS_EXECUTION_FAILED); LDEMU_CUDNN_VERSION=N is
// what cudnnGetVersion returns (default 91400, i.e. 9.14.0).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <immintrin.h>
#include <map>
#include <mutex>
#include <string>
#include <vector>

bool ld_emu_device_range(unsigned long long p, size_t bytes);  // fake_cuda.cpp
int ld_emu_submit(void* stream, const char* name, std::function<int()> op);       // fake_cuda.cpp: now, or recorded on a capturing stream

namespace {

enum Status
{
    SUCCESS = 0, BAD_PARAM = 2000, BAD_PARAM_NULL_POINTER = 2002, NOT_SUPPORTED = 3000, INTERNAL_ERROR = 4000,
    ALLOC_FAILED = 4003, EXECUTION_FAILED = 5000,
};
enum DataType { FLOAT = 0, DOUBLE = 1, HALF = 2, BFLOAT16 = 9 };
enum Format { NCHW = 0, NHWC = 1 };
enum Math { DEFAULT_MATH = 0, TENSOR_OP_MATH = 1, TENSOR_OP_MATH_ALLOW_CONVERSION = 2, FMA_MATH = 3 };
enum Kind { K_HANDLE = 1, K_TENSOR, K_FILTER, K_CONV, K_ACTIVATION };
const int kAlgoPrecomp = 1, kAlgoCount = 8, kActivationRelu = 1, kActivationIdentity = 5, kCrossCorrelation = 1;

struct Tensor { bool set = false; int format = 0, dtype = 0, n = 0, c = 0, h = 0, w = 0; };
struct Filter { bool set = false; int dtype = 0, format = 0, k = 0, c = 0, r = 0, s = 0; };
struct Conv { bool set = false; int pad_h = 0, pad_w = 0, u = 1, v = 1, dil_h = 1, dil_w = 1, mode = 0, compute = 0, math = DEFAULT_MATH; };
struct Activation { bool set = false; int mode = 0, nan = 0; double coef = 0; };
struct Handle { void* stream = nullptr; };

struct Perf
{
    int algo, status;
    float time;
    size_t memory;
    int determinism, mathType;
    int reserved[3];
};
static_assert(sizeof(Perf) == 48, "cudnnConvolutionFwdAlgoPerf_t is 48 bytes");

std::mutex g_mutex;
std::map<const void*, Kind> g_live;  // every live object and its kind: wrong kinds and use after destroy fail
thread_local std::string t_last_error;

bool trace() { static const bool on = std::getenv("LDEMU_CUDNN_TRACE") != nullptr; return on; }

int fail(int status, const char* call, const std::string& why)
{
    t_last_error = std::string(call) + ": " + why;
    if (trace()) std::fprintf(stderr, "fake cudnn: %s\n", t_last_error.c_str());
    return status;
}

// LDEMU_CUDNN_FAIL=name[:status]: the named function fails with the status (fault injection for the tests).
int injected(const char* call)
{
    static const std::string spec = std::getenv("LDEMU_CUDNN_FAIL") ? std::getenv("LDEMU_CUDNN_FAIL") : "";
    if (spec.empty()) return SUCCESS;
    auto colon = spec.find(':');
    if (spec.substr(0, colon) != call) return SUCCESS;
    int status = colon == std::string::npos ? EXECUTION_FAILED : std::atoi(spec.c_str() + colon + 1);
    return fail(status, call, "failure injected by LDEMU_CUDNN_FAIL");
}

template <class T>
T* make(Kind kind)
{
    auto* p = new T();
    std::lock_guard<std::mutex> lock(g_mutex);
    g_live[p] = kind;
    return p;
}

template <class T>
T* as(const void* p, Kind kind)
{
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_live.find(p);
    return it != g_live.end() && it->second == kind ? (T*)p : nullptr;
}

template <class T>
int destroy(void* p, Kind kind, const char* call)
{
    if (!as<T>(p, kind)) return fail(BAD_PARAM, call, "not a live object of this kind (destroyed twice, or another kind)");
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        g_live.erase(p);
    }
    delete (T*)p;
    return SUCCESS;
}

int elem_size(int dtype) { return dtype == FLOAT ? 4 : dtype == DOUBLE ? 8 : 2; }
const char* type_name(int t) { return t == FLOAT ? "FLOAT" : t == HALF ? "HALF" : t == BFLOAT16 ? "BFLOAT16" : t == DOUBLE ? "DOUBLE" : "?"; }

float half_round(float f) { return _cvtsh_ss(_cvtss_sh(f, 0)); }

double load(const void* p, int dtype, long long i)
{
    switch (dtype)
    {
        case FLOAT: return ((const float*)p)[i];
        case HALF: return _cvtsh_ss(((const uint16_t*)p)[i]);
        case BFLOAT16: { uint32_t u = (uint32_t)((const uint16_t*)p)[i] << 16; float f; std::memcpy(&f, &u, 4); return f; }
    }
    return NAN;
}

void store(void* p, int dtype, long long i, double v)
{
    float f = (float)v;
    switch (dtype)
    {
        case FLOAT: ((float*)p)[i] = f; break;
        case HALF: ((uint16_t*)p)[i] = (uint16_t)_cvtss_sh(f, 0); break;
        case BFLOAT16:
        {
            uint32_t u; std::memcpy(&u, &f, 4);
            u += 0x7fffu + ((u >> 16) & 1u);
            ((uint16_t*)p)[i] = (uint16_t)(u >> 16);
            break;
        }
    }
}

// Round to nearest (ties away) to 10 stored mantissa bits, as the TF32 conversion does.
float to_tf32(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;
    std::memcpy(&f, &u, 4);
    return f;
}

// Element offset of (n, c, h, w) in a packed 4-D tensor of the given format.
long long offset(const Tensor& t, long long n, long long c, long long h, long long w)
{
    return t.format == NHWC ? ((n * t.h + h) * t.w + w) * t.c + c : ((n * t.c + c) * t.h + h) * t.w + w;
}
long long count(const Tensor& t) { return (long long)t.n * t.c * t.h * t.w; }
long long count(const Filter& f) { return (long long)f.k * f.c * f.r * f.s; }

std::string dims(const Tensor& t)
{
    char b[160];
    std::snprintf(b, sizeof b, "%s %s [%d,%d,%d,%d]", t.format == NHWC ? "NHWC" : "NCHW", type_name(t.dtype), t.n, t.c, t.h, t.w);
    return b;
}

// The operands of one convolution, validated together.
struct Problem
{
    Tensor* x; Filter* f; Conv* conv; Tensor* y;
    int ho = 0, wo = 0;
};

// Data-type configurations of cudnnConvolutionForward: FLOAT_CONFIG, TRUE_HALF_CONFIG, PSEUDO_HALF_CONFIG,
// PSEUDO_BFLOAT16_CONFIG (x, w, y of one type; the compute type as listed). Anything else is not supported.
bool config_supported(int dtype, int compute)
{
    return (dtype == FLOAT && compute == FLOAT) || (dtype == HALF && (compute == HALF || compute == FLOAT)) || (dtype == BFLOAT16 && compute == FLOAT);
}

int validate(const char* call, void* handle, const void* xd, const void* wd, const void* cd, const void* yd, Problem& p)
{
    if (!as<Handle>(handle, K_HANDLE)) return fail(BAD_PARAM, call, "handle is not a live cudnnHandle_t");
    p.x = as<Tensor>(xd, K_TENSOR);
    p.f = as<Filter>(wd, K_FILTER);
    p.conv = as<Conv>(cd, K_CONV);
    p.y = as<Tensor>(yd, K_TENSOR);
    if (!p.x) return fail(BAD_PARAM, call, "xDesc is not a live tensor descriptor");
    if (!p.f) return fail(BAD_PARAM, call, "wDesc is not a live filter descriptor");
    if (!p.conv) return fail(BAD_PARAM, call, "convDesc is not a live convolution descriptor");
    if (!p.y) return fail(BAD_PARAM, call, "yDesc is not a live tensor descriptor");
    if (!p.x->set || !p.f->set || !p.conv->set || !p.y->set) return fail(BAD_PARAM, call, "a descriptor was created but never set");
    const Tensor &x = *p.x, &y = *p.y;
    const Filter& f = *p.f;
    const Conv& c = *p.conv;
    if (x.dtype != f.dtype || x.dtype != y.dtype)
        return fail(NOT_SUPPORTED, call, std::string("x, w and y types differ: ") + type_name(x.dtype) + ", " + type_name(f.dtype) + ", " + type_name(y.dtype));
    if (!config_supported(x.dtype, c.compute))
        return fail(NOT_SUPPORTED, call, std::string("no configuration has data ") + type_name(x.dtype) + " with compute type " + type_name(c.compute));
    // Stricter than cuDNN, which converts some mixed layouts: the engine always describes x, w and y alike.
    if (x.format != f.format || x.format != y.format) return fail(NOT_SUPPORTED, call, "x, w and y layouts differ");
    if (x.c != f.c) return fail(BAD_PARAM, call, "input channels " + std::to_string(x.c) + " but the filter has " + std::to_string(f.c));
    int eh = (f.r - 1) * c.dil_h + 1, ew = (f.s - 1) * c.dil_w + 1;
    if (x.h + 2 * c.pad_h < eh || x.w + 2 * c.pad_w < ew) return fail(BAD_PARAM, call, "the filter does not fit the padded input");
    p.ho = (x.h + 2 * c.pad_h - eh) / c.u + 1;
    p.wo = (x.w + 2 * c.pad_w - ew) / c.v + 1;
    if (y.n != x.n || y.c != f.k || y.h != p.ho || y.w != p.wo)
        return fail(BAD_PARAM, call, "yDesc is " + dims(y) + ", the convolution gives [" + std::to_string(x.n) + "," + std::to_string(f.k) + "," +
                                         std::to_string(p.ho) + "," + std::to_string(p.wo) + "]");
    return SUCCESS;
}

// The algorithm model: which algorithm supports what (stride-1 FFT and Winograd, GEMM in fp32 only, no DIRECT, only
// the implicit GEMMs for bf16), its workspace, and a relative time (Winograd fastest on 3×3 stride 1, else the
// precomputed implicit GEMM). Returns NOT_SUPPORTED or SUCCESS.
int algo_model(const Problem& p, int algo, size_t* workspace, double* rel_time)
{
    const Tensor& x = *p.x;
    const Filter& f = *p.f;
    const Conv& c = *p.conv;
    bool s1 = c.u == 1 && c.v == 1 && c.dil_h == 1 && c.dil_w == 1;
    bool k3 = f.r == 3 && f.s == 3, bf16 = x.dtype == BFLOAT16;
    size_t es = (size_t)elem_size(x.dtype);
    switch (algo)
    {
        case 0: *workspace = 0; *rel_time = 1.3; return SUCCESS;
        case 1: *workspace = 64 + (size_t)f.c * f.r * f.s * 4; *rel_time = 1.0; return SUCCESS;
        case 2:
            if (x.dtype != FLOAT) return NOT_SUPPORTED;
            *workspace = (size_t)f.c * f.r * f.s * p.ho * p.wo * es; *rel_time = 1.6; return SUCCESS;
        case 4:
            if (!s1 || bf16) return NOT_SUPPORTED;
            *workspace = (size_t)2 * x.n * (x.c + f.k) * (x.h + 2 * c.pad_h) * (x.w + 2 * c.pad_w) * 8; *rel_time = 1.4; return SUCCESS;
        case 5:
            if (!s1 || bf16) return NOT_SUPPORTED;
            *workspace = (size_t)(x.c + f.k) * 32 * 32 * 8; *rel_time = 1.2; return SUCCESS;
        case 6:
            if (!s1 || !k3 || bf16) return NOT_SUPPORTED;
            *workspace = 0; *rel_time = 0.5; return SUCCESS;
        case 7:
            if (!s1 || bf16 || !(k3 || (f.r == 5 && f.s == 5))) return NOT_SUPPORTED;
            *workspace = (size_t)(x.c + f.k) * x.n * 36 * ((p.ho + 3) / 4) * ((p.wo + 3) / 4) * es; *rel_time = 0.8; return SUCCESS;
        default: return NOT_SUPPORTED;  // DIRECT (3) is not implemented for forward convolution; others are not algorithms
    }
}

// The math type a result is reported in: the requested one for the implicit GEMMs and Winograd; the others run on
// the FMA units whatever was asked for (reported as CUDNN_DEFAULT_MATH, or FMA where FMA was requested), so the
// caller has to set each algorithm's own math type, as cuDNN's documentation tells it to.
int result_math(int algo, int requested)
{
    if (algo == 0 || algo == 1 || algo == 6) return requested;
    return requested == FMA_MATH ? FMA_MATH : DEFAULT_MATH;
}

void trace_problem(const char* what, const Problem& p)
{
    if (!trace()) return;
    std::fprintf(stderr, "fake cudnn: %s x %s w [%d,%d,%d,%d] pad %d,%d stride %d,%d compute %s math %d\n", what, dims(*p.x).c_str(),
                 p.f->k, p.f->c, p.f->r, p.f->s, p.conv->pad_h, p.conv->pad_w, p.conv->u, p.conv->v, type_name(p.conv->compute), p.conv->math);
}

// Every algorithm the model supports, ranked: by time for Find (with the workspace limit), by the "heuristic" for v7
// (the implicit GEMM first for 1×1 filters, the precomputed one otherwise, then by time).
int rank(const Problem& p, bool timed, size_t workspace_limit, int requested, int* returned, Perf* out)
{
    std::vector<Perf> all;
    for (int a = 0; a < kAlgoCount; a++)
    {
        size_t ws = 0;
        double t = 0;
        Perf r{};
        r.algo = a;
        r.determinism = 1;
        r.mathType = result_math(a, p.conv->math);
        if (algo_model(p, a, &ws, &t) != SUCCESS) { r.status = NOT_SUPPORTED; r.time = -1; all.push_back(r); continue; }
        double flops = 2.0 * p.x->n * p.f->k * p.ho * p.wo * p.f->c * p.f->r * p.f->s;
        r.memory = ws;
        r.time = (float)(t * flops / 1e9 + 1e-4);  // a 1 TFLOP/s device, so the model's factors decide even small shapes
        if (!timed && p.f->r == 1 && p.f->s == 1 && a == 0) r.time = 0;  // the heuristic's pick for 1×1
        r.status = timed && ws > workspace_limit ? ALLOC_FAILED : SUCCESS;
        all.push_back(r);
    }
    std::stable_sort(all.begin(), all.end(), [](const Perf& a, const Perf& b) {
        if ((a.status == SUCCESS) != (b.status == SUCCESS)) return a.status == SUCCESS;
        return a.time < b.time;
    });
    int n = std::min(requested, (int)all.size());
    for (int i = 0; i < n; i++)
    {
        out[i] = all[i];
        if (!timed) out[i].time = -1;  // the heuristic does not time anything
    }
    *returned = n;
    return SUCCESS;
}

int check_range(const char* call, const char* what, const void* ptr, size_t bytes)
{
    if (ptr == nullptr) return fail(BAD_PARAM_NULL_POINTER, call, std::string(what) + " is null");
    if (!ld_emu_device_range((unsigned long long)ptr, bytes))
        return fail(BAD_PARAM, call, std::string(what) + " does not hold " + std::to_string(bytes) + " bytes of device memory");
    return SUCCESS;
}

bool overlap(const void* a, size_t an, const void* b, size_t bn)
{
    auto pa = (uintptr_t)a, pb = (uintptr_t)b;
    return pa < pb + bn && pb < pa + an;
}

int check_workspace(const char* call, const Problem& p, int algo, const void* ws, size_t ws_bytes)
{
    size_t need = 0;
    double t;
    if (algo_model(p, algo, &need, &t) != SUCCESS)
        return fail(NOT_SUPPORTED, call, "algorithm " + std::to_string(algo) + " does not support " + dims(*p.x) + " with this filter and stride");
    if (ws_bytes < need)
        return fail(BAD_PARAM, call, "workSpaceSizeInBytes " + std::to_string(ws_bytes) + " < " + std::to_string(need) + " needed by algorithm " + std::to_string(algo));
    if (ws_bytes > 0) return check_range(call, "workSpace", ws, ws_bytes);
    return SUCCESS;
}

int check_data(const char* call, const Problem& p, const void* x, const void* w, const void* y)
{
    size_t es = (size_t)elem_size(p.x->dtype);
    size_t xb = count(*p.x) * es, wb = count(*p.f) * es, yb = count(*p.y) * es;
    if (int rc = check_range(call, "x", x, xb)) return rc;
    if (int rc = check_range(call, "w", w, wb)) return rc;
    if (int rc = check_range(call, "y", y, yb)) return rc;
    if (overlap(x, xb, y, yb) || overlap(w, wb, y, yb)) return fail(BAD_PARAM, call, "y overlaps x or w");
    return SUCCESS;
}

// conv(x, w) per output element in double, with the operands as the math type sees them.
std::vector<double> convolve(const Problem& p, const void* x, const void* w)
{
    const Tensor& xt = *p.x;
    const Filter& f = *p.f;
    const Conv& c = *p.conv;
    bool tf32 = xt.dtype == FLOAT && (c.math == DEFAULT_MATH || c.math == TENSOR_OP_MATH);
    bool to_half = xt.dtype == FLOAT && c.math == TENSOR_OP_MATH_ALLOW_CONVERSION;
    auto operand = [&](double v) { return tf32 ? (double)to_tf32((float)v) : to_half ? (double)half_round((float)v) : v; };
    std::vector<double> xv(count(xt)), wv(count(f));  // x as NCHW, w as KCRS
    for (long long n = 0; n < xt.n; n++)
        for (long long ch = 0; ch < xt.c; ch++)
            for (long long h = 0; h < xt.h; h++)
                for (long long ww = 0; ww < xt.w; ww++)
                    xv[((n * xt.c + ch) * xt.h + h) * xt.w + ww] = operand(load(x, xt.dtype, offset(xt, n, ch, h, ww)));
    for (long long k = 0; k < f.k; k++)
        for (long long ch = 0; ch < f.c; ch++)
            for (long long r = 0; r < f.r; r++)
                for (long long s = 0; s < f.s; s++)
                {
                    long long src = f.format == NHWC ? ((k * f.r + r) * f.s + s) * f.c + ch : ((k * f.c + ch) * f.r + r) * f.s + s;
                    wv[((k * f.c + ch) * f.r + r) * f.s + s] = operand(load(w, f.dtype, src));
                }
    bool half_acc = c.compute == HALF;
    // Each output element's sum takes its terms in the order (ch, r, s), padding skipped, as a loop per element
    // would; the loops run over whole output rows per term (the valid columns of a row are one contiguous range), so
    // the compiler vectorises the additions and every sum is the same double, bit for bit.
    std::vector<double> out(count(*p.y)), plane((size_t)(p.ho * p.wo));
    for (long long n = 0; n < xt.n; n++)
        for (long long k = 0; k < f.k; k++)
        {
            std::fill(plane.begin(), plane.end(), 0.0);
            for (long long ch = 0; ch < f.c; ch++)
                for (long long r = 0; r < f.r; r++)
                    for (long long s = 0; s < f.s; s++)
                    {
                        // CUDNN_CONVOLUTION flips the filter; CUDNN_CROSS_CORRELATION (PyTorch's) does not.
                        long long fr = c.mode == kCrossCorrelation ? r : f.r - 1 - r, fs = c.mode == kCrossCorrelation ? s : f.s - 1 - s;
                        double wt = wv[((k * f.c + ch) * f.r + fr) * f.s + fs];
                        // Output columns ow with 0 <= ow·v − pad_w + s·dil_w < W.
                        long long off = s * c.dil_w - c.pad_w, ow0 = 0, ow1 = p.wo;
                        while (ow0 < p.wo && ow0 * c.v + off < 0) ow0++;
                        while (ow1 > ow0 && (ow1 - 1) * c.v + off >= xt.w) ow1--;
                        for (long long oh = 0; oh < p.ho; oh++)
                        {
                            long long ih = oh * c.u - c.pad_h + r * c.dil_h;
                            if (ih < 0 || ih >= xt.h) continue;
                            const double* xrow = &xv[((n * xt.c + ch) * xt.h + ih) * xt.w];  // column ow·v + off
                            double* orow = &plane[oh * p.wo];
                            if (half_acc)
                                for (long long ow = ow0; ow < ow1; ow++) orow[ow] = half_round((float)(orow[ow] + xrow[ow * c.v + off] * wt));
                            else if (c.v == 1)
                                for (long long ow = ow0; ow < ow1; ow++) orow[ow] += xrow[ow + off] * wt;
                            else
                                for (long long ow = ow0; ow < ow1; ow++) orow[ow] += xrow[ow * c.v + off] * wt;
                        }
                    }
            for (long long oh = 0; oh < p.ho; oh++)
                for (long long ow = 0; ow < p.wo; ow++) out[offset(*p.y, n, k, oh, ow)] = plane[oh * p.wo + ow];
        }
    return out;
}

// The fused forward's arithmetic (defined after the C API).
int fused(const Problem& p, const Tensor& zt, const Tensor& bt, const Activation& act, float alpha1, float alpha2,
          const void* x, const void* w, const void* z, const void* bias, void* y);

}  // namespace

extern "C" {

size_t cudnnGetVersion()
{
    const char* v = std::getenv("LDEMU_CUDNN_VERSION");
    return v ? (size_t)std::atol(v) : 91400;
}

const char* cudnnGetErrorString(int status)
{
    switch (status)
    {
        case SUCCESS: return "CUDNN_STATUS_SUCCESS";
        case BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
        case BAD_PARAM_NULL_POINTER: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
        case NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
        case INTERNAL_ERROR: return "CUDNN_STATUS_INTERNAL_ERROR";
        case ALLOC_FAILED: return "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED";
        case EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
        default: return "CUDNN_STATUS_UNKNOWN";
    }
}

void cudnnGetLastErrorString(char* message, size_t max_size)
{
    if (message == nullptr || max_size == 0) return;
    std::snprintf(message, max_size, "%s", t_last_error.c_str());
    t_last_error.clear();
}

int cudnnCnnVersionCheck() { return SUCCESS; }

int cudnnCreate(void** handle)
{
    if (handle == nullptr) return fail(BAD_PARAM_NULL_POINTER, "cudnnCreate", "handle is null");
    *handle = make<Handle>(K_HANDLE);
    return SUCCESS;
}
int cudnnDestroy(void* handle) { return destroy<Handle>(handle, K_HANDLE, "cudnnDestroy"); }
int cudnnSetStream(void* handle, void* stream)
{
    auto* h = as<Handle>(handle, K_HANDLE);
    if (!h) return fail(BAD_PARAM, "cudnnSetStream", "handle is not a live cudnnHandle_t");
    h->stream = stream;
    return SUCCESS;
}

int cudnnCreateTensorDescriptor(void** d) { *d = make<Tensor>(K_TENSOR); return SUCCESS; }
int cudnnDestroyTensorDescriptor(void* d) { return destroy<Tensor>(d, K_TENSOR, "cudnnDestroyTensorDescriptor"); }
int cudnnSetTensor4dDescriptor(void* d, int format, int dtype, int n, int c, int h, int w)
{
    const char* call = "cudnnSetTensor4dDescriptor";
    auto* t = as<Tensor>(d, K_TENSOR);
    if (!t) return fail(BAD_PARAM, call, "not a live tensor descriptor");
    if (format != NCHW && format != NHWC) return fail(BAD_PARAM, call, "format " + std::to_string(format) + " is not NCHW (0) or NHWC (1)");
    if (dtype != FLOAT && dtype != HALF && dtype != BFLOAT16 && dtype != DOUBLE) return fail(BAD_PARAM, call, "data type " + std::to_string(dtype));
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0) return fail(BAD_PARAM, call, "a dimension is not positive");
    if ((long long)n * c * h * w > INT32_MAX) return fail(NOT_SUPPORTED, call, "more than 2^31 elements");
    *t = Tensor{true, format, dtype, n, c, h, w};
    return SUCCESS;
}

int cudnnCreateFilterDescriptor(void** d) { *d = make<Filter>(K_FILTER); return SUCCESS; }
int cudnnDestroyFilterDescriptor(void* d) { return destroy<Filter>(d, K_FILTER, "cudnnDestroyFilterDescriptor"); }
int cudnnSetFilter4dDescriptor(void* d, int dtype, int format, int k, int c, int r, int s)
{
    const char* call = "cudnnSetFilter4dDescriptor";
    auto* f = as<Filter>(d, K_FILTER);
    if (!f) return fail(BAD_PARAM, call, "not a live filter descriptor");
    if (dtype != FLOAT && dtype != HALF && dtype != BFLOAT16 && dtype != DOUBLE) return fail(BAD_PARAM, call, "data type " + std::to_string(dtype) + " (the type comes before the format)");
    if (format != NCHW && format != NHWC) return fail(BAD_PARAM, call, "format " + std::to_string(format) + " is not NCHW (0) or NHWC (1)");
    if (k <= 0 || c <= 0 || r <= 0 || s <= 0) return fail(BAD_PARAM, call, "a dimension is not positive");
    *f = Filter{true, dtype, format, k, c, r, s};
    return SUCCESS;
}

int cudnnCreateConvolutionDescriptor(void** d) { *d = make<Conv>(K_CONV); return SUCCESS; }
int cudnnDestroyConvolutionDescriptor(void* d) { return destroy<Conv>(d, K_CONV, "cudnnDestroyConvolutionDescriptor"); }
int cudnnSetConvolution2dDescriptor(void* d, int pad_h, int pad_w, int u, int v, int dil_h, int dil_w, int mode, int compute)
{
    const char* call = "cudnnSetConvolution2dDescriptor";
    auto* c = as<Conv>(d, K_CONV);
    if (!c) return fail(BAD_PARAM, call, "not a live convolution descriptor");
    if (pad_h < 0 || pad_w < 0 || u <= 0 || v <= 0 || dil_h <= 0 || dil_w <= 0) return fail(BAD_PARAM, call, "negative padding or non-positive stride/dilation");
    if (mode != 0 && mode != kCrossCorrelation) return fail(BAD_PARAM, call, "mode " + std::to_string(mode));
    if (compute != FLOAT && compute != HALF && compute != DOUBLE && compute != BFLOAT16) return fail(BAD_PARAM, call, "compute type " + std::to_string(compute));
    int math = c->math;
    *c = Conv{true, pad_h, pad_w, u, v, dil_h, dil_w, mode, compute, math};
    return SUCCESS;
}
int cudnnSetConvolutionMathType(void* d, int math)
{
    auto* c = as<Conv>(d, K_CONV);
    if (!c) return fail(BAD_PARAM, "cudnnSetConvolutionMathType", "not a live convolution descriptor");
    if (math < DEFAULT_MATH || math > FMA_MATH) return fail(BAD_PARAM, "cudnnSetConvolutionMathType", "math type " + std::to_string(math));
    c->math = math;
    return SUCCESS;
}

int cudnnCreateActivationDescriptor(void** d) { *d = make<Activation>(K_ACTIVATION); return SUCCESS; }
int cudnnDestroyActivationDescriptor(void* d) { return destroy<Activation>(d, K_ACTIVATION, "cudnnDestroyActivationDescriptor"); }
int cudnnSetActivationDescriptor(void* d, int mode, int nan, double coef)
{
    auto* a = as<Activation>(d, K_ACTIVATION);
    if (!a) return fail(BAD_PARAM, "cudnnSetActivationDescriptor", "not a live activation descriptor");
    if (mode < 0 || mode > 6 || (nan != 0 && nan != 1)) return fail(BAD_PARAM, "cudnnSetActivationDescriptor", "mode or NaN option out of range");
    *a = Activation{true, mode, nan, coef};
    return SUCCESS;
}

int cudnnGetConvolutionForwardAlgorithm_v7(void* handle, const void* xd, const void* wd, const void* cd, const void* yd, int requested, int* returned, Perf* perf)
{
    const char* call = "cudnnGetConvolutionForwardAlgorithm_v7";
    if (int rc = injected(call)) return rc;
    Problem p;
    if (int rc = validate(call, handle, xd, wd, cd, yd, p)) return rc;
    if (requested <= 0 || returned == nullptr || perf == nullptr) return fail(BAD_PARAM, call, "requestedAlgoCount, returnedAlgoCount or perfResults");
    trace_problem("search v7", p);
    return rank(p, false, 0, requested, returned, perf);
}

int cudnnFindConvolutionForwardAlgorithmEx(void* handle, const void* xd, const void* x, const void* wd, const void* w, const void* cd,
                                           const void* yd, void* y, int requested, int* returned, Perf* perf, void* ws, size_t ws_bytes)
{
    const char* call = "cudnnFindConvolutionForwardAlgorithmEx";
    if (int rc = injected(call)) return rc;
    Problem p;
    if (int rc = validate(call, handle, xd, wd, cd, yd, p)) return rc;
    if (requested <= 0 || returned == nullptr || perf == nullptr) return fail(BAD_PARAM, call, "requestedAlgoCount, returnedAlgoCount or perfResults");
    if (int rc = check_data(call, p, x, w, y)) return rc;
    if (ws_bytes > 0)
        if (int rc = check_range(call, "workSpace", ws, ws_bytes)) return rc;
    trace_problem("search find", p);
    std::memset(y, 0xFF, count(*p.y) * elem_size(p.y->dtype));  // what the trial runs leave there is not a result
    return rank(p, true, ws_bytes, requested, returned, perf);
}

int cudnnGetConvolutionForwardWorkspaceSize(void* handle, const void* xd, const void* wd, const void* cd, const void* yd, int algo, size_t* size)
{
    const char* call = "cudnnGetConvolutionForwardWorkspaceSize";
    Problem p;
    if (int rc = validate(call, handle, xd, wd, cd, yd, p)) return rc;
    double t;
    if (size == nullptr) return fail(BAD_PARAM_NULL_POINTER, call, "sizeInBytes is null");
    if (algo_model(p, algo, size, &t) != SUCCESS) return fail(NOT_SUPPORTED, call, "algorithm " + std::to_string(algo) + " does not support this convolution");
    return SUCCESS;
}

int cudnnConvolutionForward(void* handle, const float* alpha, const void* xd, const void* x, const void* wd, const void* w, const void* cd,
                            int algo, void* ws, size_t ws_bytes, const float* beta, const void* yd, void* y)
{
    const char* call = "cudnnConvolutionForward";
    if (int rc = injected(call)) return rc;
    Problem p;
    if (int rc = validate(call, handle, xd, wd, cd, yd, p)) return rc;
    if (alpha == nullptr || beta == nullptr) return fail(BAD_PARAM_NULL_POINTER, call, "alpha or beta is null");
    if (int rc = check_data(call, p, x, w, y)) return rc;
    if (int rc = check_workspace(call, p, algo, ws, ws_bytes)) return rc;
    if (trace()) std::fprintf(stderr, "fake cudnn: forward algo %d math %d\n", algo, p.conv->math);
    // Checked now; computed now or at every launch of a graph captured from the handle's stream (descriptors and
    // host scalars copied, as cuDNN bakes them into its kernels' parameters).
    return ld_emu_submit(((Handle*)handle)->stream, "cudnnConvolutionForward", [xt = *p.x, f = *p.f, conv = *p.conv, yt = *p.y, ho = p.ho, wo = p.wo, a = *alpha, b = *beta, x, w, y]() mutable {
        Problem q{&xt, &f, &conv, &yt, ho, wo};
        auto acc = convolve(q, x, w);
        for (long long i = 0; i < (long long)acc.size(); i++)
        {
            double v = (double)a * (float)acc[i];
            if (b != 0.0f) v += (double)b * load(y, yt.dtype, i);
            store(y, yt.dtype, i, v);
        }
        return SUCCESS;
    });
}

int cudnnConvolutionBiasActivationForward(void* handle, const float* alpha1, const void* xd, const void* x, const void* wd, const void* w,
                                          const void* cd, int algo, void* ws, size_t ws_bytes, const float* alpha2, const void* zd,
                                          const void* z, const void* bd, const void* bias, const void* ad, const void* yd, void* y)
{
    const char* call = "cudnnConvolutionBiasActivationForward";
    if (int rc = injected(call)) return rc;
    Problem p;
    if (int rc = validate(call, handle, xd, wd, cd, yd, p)) return rc;
    auto* zt = as<Tensor>(zd, K_TENSOR);
    auto* bt = as<Tensor>(bd, K_TENSOR);
    auto* act = as<Activation>(ad, K_ACTIVATION);
    if (!zt || !bt || !act || !zt->set || !bt->set || !act->set) return fail(BAD_PARAM, call, "zDesc, biasDesc or activationDesc is not a live, set descriptor");
    if (alpha1 == nullptr || alpha2 == nullptr) return fail(BAD_PARAM_NULL_POINTER, call, "alpha1 or alpha2 is null");
    // Only RELU and IDENTITY, and IDENTITY only with IMPLICIT_PRECOMP_GEMM (the cuDNN API reference, cudnnActivationMode_t).
    if (act->mode != kActivationRelu && act->mode != kActivationIdentity) return fail(NOT_SUPPORTED, call, "activation mode " + std::to_string(act->mode));
    if (act->mode == kActivationIdentity && algo != kAlgoPrecomp)
        return fail(NOT_SUPPORTED, call, "CUDNN_ACTIVATION_IDENTITY requires CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, got algorithm " + std::to_string(algo));
    const Tensor& yt = *p.y;
    if (zt->format != yt.format || zt->dtype != yt.dtype || zt->n != yt.n || zt->c != yt.c || zt->h != yt.h || zt->w != yt.w)
        return fail(BAD_PARAM, call, "zDesc " + dims(*zt) + " differs from yDesc " + dims(yt));
    if (bt->n != 1 || bt->c != yt.c || bt->h != 1 || bt->w != 1 || bt->dtype != yt.dtype)
        return fail(BAD_PARAM, call, "biasDesc " + dims(*bt) + " is not [1," + std::to_string(yt.c) + ",1,1] of y's type");
    if (int rc = check_data(call, p, x, w, y)) return rc;
    size_t yb = count(yt) * elem_size(yt.dtype);
    if (int rc = check_range(call, "bias", bias, (size_t)yt.c * elem_size(yt.dtype))) return rc;
    if (*alpha2 != 0.0f)
    {
        if (int rc = check_range(call, "z", z, yb)) return rc;
        if (z != y && overlap(z, yb, y, yb)) return fail(BAD_PARAM, call, "z partially overlaps y");
    }
    if (int rc = check_workspace(call, p, algo, ws, ws_bytes)) return rc;
    if (trace()) std::fprintf(stderr, "fake cudnn: fused algo %d math %d residual %d\n", algo, p.conv->math, *alpha2 != 0.0f ? 1 : 0);
    return ld_emu_submit(((Handle*)handle)->stream, "cudnnConvolutionBiasActivationForward", [xt = *p.x, f = *p.f, conv = *p.conv, yt = *p.y, zt = *zt, bt = *bt, act = *act, ho = p.ho, wo = p.wo,
                                                    a1 = *alpha1, a2 = *alpha2, x, w, z, bias, y]() mutable {
        Problem q{&xt, &f, &conv, &yt, ho, wo};
        return fused(q, zt, bt, act, a1, a2, x, w, z, bias, y);
    });
}

}  // extern "C"

namespace {
// y = act(alpha1·conv(x, w) + bias + alpha2·z), the epilogue in fp32.
int fused(const Problem& p, const Tensor& zt, const Tensor& bt, const Activation& act, float alpha1, float alpha2,
          const void* x, const void* w, const void* z, const void* bias, void* y)
{
    const Tensor& yt = *p.y;
    auto acc = convolve(p, x, w);
    std::vector<double> zv;
    if (alpha2 != 0.0f)  // read z before y is written: z may be y itself
    {
        zv.resize(acc.size());
        for (size_t i = 0; i < acc.size(); i++) zv[i] = load(z, zt.dtype, (long long)i);
    }
    for (long long n = 0; n < yt.n; n++)
        for (long long k = 0; k < yt.c; k++)
            for (long long h = 0; h < yt.h; h++)
                for (long long ww = 0; ww < yt.w; ww++)
                {
                    long long i = offset(yt, n, k, h, ww);
                    float v = alpha1 * (float)acc[i] + (float)load(bias, bt.dtype, k);  // the epilogue in fp32
                    if (alpha2 != 0.0f) v += alpha2 * (float)zv[i];
                    if (act.mode == kActivationRelu) v = v > 0 ? v : 0;
                    store(y, yt.dtype, i, v);
                }
    return SUCCESS;
}
}  // namespace
