// Elementwise kernels: dtype casts, activations, GEGLU, broadcast binary ops, per-channel bias, axpy.
// Every kernel is a grid-stride loop, so any grid size is correct; the host picks one that fills the GPU.
#include "ld_cuda.h"

// ---- casts between storage types (weight upload, fp16 <-> fp32 at the host boundary)
template <class S, class D>
LD_DEV void cast_impl(long long n, const S* x, D* y)
{
    LD_GRID_LOOP(i, n) ld_store(y + i, ld_load(x + i));
}

#define LD_CAST(S, SS, D, DS) \
    extern "C" __global__ void ld_cast_##SS##_##DS(long long n, const S* x, D* y) { cast_impl<S, D>(n, x, y); }
#define LD_CAST_FROM(S, SS) LD_CAST(S, SS, float, f32) LD_CAST(S, SS, ld_half, f16) LD_CAST(S, SS, ld_bf16, bf16)
LD_FOR_TYPES(LD_CAST_FROM)

// ---- one-input maps. op: 0 silu, 1 exact gelu, 2 quick gelu (x·σ(1.702x)), 3 affine x·a + b, 4 clamp to [a, b]
LD_DEV float unary_op(int op, float v, float a, float b)
{
    switch (op)
    {
        case 0: return v * ld_sigmoid(v);
        case 1: return ld_gelu(v);
        case 2: return v * ld_sigmoid(1.702f * v);
        case 3: return ld_fma(v, a, b);
        default: return ld_min(ld_max(v, a), b);
    }
}

template <class T>
LD_DEV void unary_impl(long long n, const T* x, T* y, int op, float a, float b)
{
    LD_GRID_LOOP(i, n) ld_store(y + i, unary_op(op, ld_load(x + i), a, b));
}

#define LD_UNARY(T, S) \
    extern "C" __global__ void ld_unary_##S(long long n, const T* x, T* y, int op, float a, float b) { unary_impl<T>(n, x, y, op, a, b); }
LD_FOR_TYPES(LD_UNARY)

// ---- GEGLU: x[rows, 2f] -> x[:, :f] · gelu(x[:, f:])
template <class T>
LD_DEV void geglu_impl(long long rows, int f, const T* x, T* y)
{
    long long n = rows * f;
    LD_GRID_LOOP(i, n)
    {
        long long r = i / f, c = i - r * f;
        const T* row = x + r * 2 * f;
        ld_store(y + i, ld_load(row + c) * ld_gelu(ld_load(row + f + c)));
    }
}

#define LD_GEGLU(T, S) \
    extern "C" __global__ void ld_geglu_##S(long long rows, int f, const T* x, T* y) { geglu_impl<T>(rows, f, x, y); }
LD_FOR_TYPES(LD_GEGLU)

// ---- binary ops with numpy broadcasting. The host collapses the shapes first (adjacent axes merged where both
// operands allow it), so the common cases arrive as rank 1 (same shape), 2 (rows + a row) or 3 (NCHW + per-channel).
// A broadcast axis has stride 0. op: 0 add, 1 sub, 2 mul.
#define LD_MAX_RANK 8
struct BroadcastShape
{
    int rank;
    int shape[LD_MAX_RANK];
    long long stride_a[LD_MAX_RANK];
    long long stride_b[LD_MAX_RANK];
};

LD_DEV float binary_op(int op, float a, float b) { return op == 0 ? a + b : (op == 1 ? a - b : a * b); }

template <class T>
LD_DEV void binary_impl(long long n, const T* a, const T* b, T* y, int op, const BroadcastShape& s)
{
    LD_GRID_LOOP(i, n)
    {
        long long rem = i, oa = 0, ob = 0;
        for (int d = s.rank - 1; d >= 0; d--)
        {
            long long idx = rem % s.shape[d];
            rem /= s.shape[d];
            oa += idx * s.stride_a[d];
            ob += idx * s.stride_b[d];
        }
        ld_store(y + i, binary_op(op, ld_load(a + oa), ld_load(b + ob)));
    }
}

template <class T>
LD_DEV void binary_same_impl(long long n, const T* a, const T* b, T* y, int op)
{
    LD_GRID_LOOP(i, n) ld_store(y + i, binary_op(op, ld_load(a + i), ld_load(b + i)));
}

#define LD_BINARY(T, S) \
    extern "C" __global__ void ld_binary_##S(long long n, const T* a, const T* b, T* y, int op, BroadcastShape s) { binary_impl<T>(n, a, b, y, op, s); } \
    extern "C" __global__ void ld_binary_same_##S(long long n, const T* a, const T* b, T* y, int op) { binary_same_impl<T>(n, a, b, y, op); }
LD_FOR_TYPES(LD_BINARY)

// ---- y[n, c, hw] += bias[c] (convolution bias after the GEMM)
template <class T>
LD_DEV void channel_bias_impl(long long n, T* y, const T* bias, int c, long long hw)
{
    LD_GRID_LOOP(i, n)
    {
        int ch = (int)((i / hw) % c);
        ld_store(y + i, ld_load(y + i) + ld_load(bias + ch));
    }
}

#define LD_CHANNEL_BIAS(T, S) \
    extern "C" __global__ void ld_channel_bias_##S(long long n, T* y, const T* bias, int c, long long hw) { channel_bias_impl<T>(n, y, bias, c, hw); }
LD_FOR_TYPES(LD_CHANNEL_BIAS)

// ---- y += a·x in fp32, one rounding to the storage type (a weight difference merged into a weight)
template <class T>
LD_DEV void axpy_impl(long long n, const T* x, T* y, float a)
{
    LD_GRID_LOOP(i, n) ld_store(y + i, ld_fma(a, ld_load(x + i), ld_load(y + i)));
}

#define LD_AXPY(T, S) \
    extern "C" __global__ void ld_axpy_##S(long long n, const T* x, T* y, float a) { axpy_impl<T>(n, x, y, a); }
LD_FOR_TYPES(LD_AXPY)
