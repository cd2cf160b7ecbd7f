// Elementwise kernels: dtype casts, activations, GEGLU, broadcast binary ops, per-channel bias, axpy. All are bound
// by memory bandwidth: 16-byte accesses, and no 64-bit division in the index arithmetic. Grid-stride loops accept
// any grid size; the host picks one that fills the GPU.
#include "ld_cuda.h"

// Slots of 8 elements: a thread moves 8 consecutive elements at a time, with 16-byte accesses when its pointers are
// aligned (always, for pool allocations) and scalar ones otherwise; the last slot may be partial.
#define LD_SLOT_LOOP(slot, n) LD_GRID_LOOP(slot, ((n) + 7) / 8)

/// Loads slot `slot` of x (count = how many of its 8 elements exist) through the vector path when it can.
template <class T>
LD_DEV int ld_slot_load(const T* x, long long slot, long long n, bool vec, float (&v)[8])
{
    long long i = slot * 8;
    int count = n - i < 8 ? (int)(n - i) : 8;
    if (vec && count == 8) ld_load8(x + i, v); else ld_load_n(x + i, v, count);
    return count;
}

template <class T>
LD_DEV void ld_slot_store(T* y, long long slot, bool vec, int count, const float (&v)[8])
{
    long long i = slot * 8;
    if (vec && count == 8) ld_store8(y + i, v); else ld_store_n(y + i, v, count);
}

// ---- casts between storage types (weight upload, fp16 <-> fp32 at the host boundary)
template <class S, class D>
LD_DEV void cast_impl(long long n, const S* x, D* y)
{
    const bool vec = ld_aligned16(x) && ld_aligned16(y);
    LD_SLOT_LOOP(slot, n)
    {
        float v[8];
        int count = ld_slot_load(x, slot, n, vec, v);
        ld_slot_store(y, slot, vec, count, v);
    }
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
    const bool vec = ld_aligned16(x) && ld_aligned16(y);
    LD_SLOT_LOOP(slot, n)
    {
        float v[8];
        int count = ld_slot_load(x, slot, n, vec, v);
#pragma unroll
        for (int k = 0; k < 8; k++) v[k] = unary_op(op, v[k], a, b);
        ld_slot_store(y, slot, vec, count, v);
    }
}

#define LD_UNARY(T, S) \
    extern "C" __global__ void ld_unary_##S(long long n, const T* x, T* y, int op, float a, float b) { unary_impl<T>(n, x, y, op, a, b); }
LD_FOR_TYPES(LD_UNARY)

// ---- GEGLU: x[rows, 2f] -> x[:, :f] · gelu(x[:, f:]). grid = (⌈f / 8 / 256⌉, min(rows, 65535)), block = 256: a
// thread owns 8 columns of a row (no index division), rows stride by gridDim.y.
template <class T>
LD_DEV void geglu_impl(long long rows, int f, const T* x, T* y)
{
    const int c = (int)(ld_bid_x() * ld_ntid() + ld_tid()) * 8;
    if (c >= f) return;
    const int count = f - c < 8 ? f - c : 8;
    const bool vec = count == 8 && (f & 7) == 0 && ld_aligned16(x) && ld_aligned16(y);
    for (long long r = ld_bid_y(); r < rows; r += ld_nbid_y())
    {
        const T* row = x + r * 2 * f;
        float a[8], g[8];
        if (vec) { ld_load8(row + c, a); ld_load8(row + f + c, g); }
        else { ld_load_n(row + c, a, count); ld_load_n(row + f + c, g, count); }
#pragma unroll
        for (int k = 0; k < 8; k++) a[k] *= ld_gelu(g[k]);
        if (vec) ld_store8(y + r * f + c, a); else ld_store_n(y + r * f + c, a, count);
    }
}

#define LD_GEGLU(T, S) \
    extern "C" __global__ void ld_geglu_##S(long long rows, int f, const T* x, T* y) { geglu_impl<T>(rows, f, x, y); }
LD_FOR_TYPES(LD_GEGLU)

// ---- binary ops with numpy broadcasting. The host collapses the shapes first (adjacent axes merged where both
// operands allow it), so the common cases arrive as rank 1 (same shape: the vector kernel below), 2 (rows + a row)
// or 3 (NCHW + per-channel). A broadcast axis has stride 0. op: 0 add, 1 sub, 2 mul. Output indices are below 2^31
// (the host checks), so the per-axis division is a multiply-high by the host's constants.
#define LD_MAX_RANK 8
struct BroadcastShape
{
    int rank;
    FastDivmod shape[LD_MAX_RANK];
    long long stride_a[LD_MAX_RANK];
    long long stride_b[LD_MAX_RANK];
};

LD_DEV float binary_op(int op, float a, float b) { return op == 0 ? a + b : (op == 1 ? a - b : a * b); }

template <class T>
LD_DEV void binary_impl(int n, const T* a, const T* b, T* y, int op, const BroadcastShape& s)
{
    for (int i = (int)(ld_bid_x() * ld_ntid() + ld_tid()); i < n; i += (int)(ld_nbid_x() * ld_ntid()))
    {
        int rem = i;
        long long oa = 0, ob = 0;
        for (int d = s.rank - 1; d >= 0; d--)
        {
            int q = ld_div(rem, s.shape[d]), idx = rem - q * s.shape[d].d;
            rem = q;
            oa += idx * s.stride_a[d];
            ob += idx * s.stride_b[d];
        }
        ld_store(y + i, binary_op(op, ld_load(a + oa), ld_load(b + ob)));
    }
}

template <class T>
LD_DEV void binary_same_impl(long long n, const T* a, const T* b, T* y, int op)
{
    const bool vec = ld_aligned16(a) && ld_aligned16(b) && ld_aligned16(y);
    LD_SLOT_LOOP(slot, n)
    {
        float va[8], vb[8];
        int count = ld_slot_load(a, slot, n, vec, va);
        ld_slot_load(b, slot, n, vec, vb);
#pragma unroll
        for (int k = 0; k < 8; k++) va[k] = binary_op(op, va[k], vb[k]);
        ld_slot_store(y, slot, vec, count, va);
    }
}

#define LD_BINARY(T, S) \
    extern "C" __global__ void ld_binary_##S(int n, const T* a, const T* b, T* y, int op, BroadcastShape s) { binary_impl<T>(n, a, b, y, op, s); } \
    extern "C" __global__ void ld_binary_same_##S(long long n, const T* a, const T* b, T* y, int op) { binary_same_impl<T>(n, a, b, y, op); }
LD_FOR_TYPES(LD_BINARY)

// ---- y[planes, hw] += bias[plane % c] (convolution bias after the GEMM). grid = (⌈hw / 8 / 256⌉, min(planes, 65535)),
// block = 256: a thread owns 8 positions of a plane, planes stride by gridDim.y.
template <class T>
LD_DEV void channel_bias_impl(long long planes, T* y, const T* bias, int c, int hw)
{
    const int p = (int)(ld_bid_x() * ld_ntid() + ld_tid()) * 8;
    if (p >= hw) return;
    const int count = hw - p < 8 ? hw - p : 8;
    const bool vec = count == 8 && (hw & 7) == 0 && ld_aligned16(y);
    for (long long pl = ld_bid_y(); pl < planes; pl += ld_nbid_y())
    {
        float bv = ld_load(bias + (int)pl % c), v[8];  // planes < 2^31
        T* row = y + pl * hw + p;
        if (vec) ld_load8(row, v); else ld_load_n(row, v, count);
#pragma unroll
        for (int k = 0; k < 8; k++) v[k] += bv;
        if (vec) ld_store8(row, v); else ld_store_n(row, v, count);
    }
}

#define LD_CHANNEL_BIAS(T, S) \
    extern "C" __global__ void ld_channel_bias_##S(long long planes, T* y, const T* bias, int c, int hw) { channel_bias_impl<T>(planes, y, bias, c, hw); }
LD_FOR_TYPES(LD_CHANNEL_BIAS)

// ---- y += a·x in fp32, one rounding to the storage type (a weight difference merged into a weight)
template <class T>
LD_DEV void axpy_impl(long long n, const T* x, T* y, float a)
{
    const bool vec = ld_aligned16(x) && ld_aligned16(y);
    LD_SLOT_LOOP(slot, n)
    {
        float vx[8], vy[8];
        int count = ld_slot_load(x, slot, n, vec, vx);
        ld_slot_load(y, slot, n, vec, vy);
#pragma unroll
        for (int k = 0; k < 8; k++) vy[k] = ld_fma(a, vx[k], vy[k]);
        ld_slot_store(y, slot, vec, count, vy);
    }
}

#define LD_AXPY(T, S) \
    extern "C" __global__ void ld_axpy_##S(long long n, const T* x, T* y, float a) { axpy_impl<T>(n, x, y, a); }
LD_FOR_TYPES(LD_AXPY)
