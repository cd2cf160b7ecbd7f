// ld_cuda.h: the one portability header every kernel includes.
//
// The same kernel source builds two ways:
//   - nvcc (the CUDA toolkit, on the GPU machine): CUDA's own keywords and built-in variables exist already.
//   - clang-14 without any CUDA headers (`-x cuda --cuda-device-only -nocudainc -nocudalib`, on machines with no
//     toolkit): we define the keywords and read the special registers through clang's NVVM builtins.
//   - a host C++ compiler with LD_HOST_EMU defined (tests/Cuda/emu): the kernels run on the CPU behind a fake
//     libcuda, so the backend and the kernels' index arithmetic can be tested end to end without a GPU.
// Neither GPU path includes cuda_fp16.h or libdevice: half and bfloat16 are 16-bit storage structs converted with PTX
// cvt instructions, and exp/erf/rsqrt are written here with PTX approximations or plain arithmetic, so both
// compilers produce the same arithmetic.
#pragma once

#if defined(LD_HOST_EMU)
// Host emulation (tests/Cuda/emu): the kernels compile as plain C++; each CUDA thread of a block is a coroutine on
// the launching CPU thread, and barriers, shuffles and the warp-collective instructions below switch between them.
#include <cmath>
#include <cstring>
#include <immintrin.h>
#define __global__
#define __device__
#define __shared__ static
#define __forceinline__ inline
#define __launch_bounds__(...)
extern thread_local unsigned ld_emu_tid, ld_emu_ntid, ld_emu_bid[3], ld_emu_nbid[3];
void ld_emu_sync();
float ld_emu_shfl_xor(float v, int lane_mask);
// Warp collectives in one exchange (one switch per lane instead of one per shuffle; the same fp32 operations in the
// same order as the shuffle loops they stand for): three values shuffled at once, and the xor butterfly 16..1 of a
// sum (op 0) or max (op 1).
void ld_emu_shfl_xor3(float (&v)[3], int lane_mask);
float ld_emu_warp_reduce(float v, int op);
// mma.sync.m16n8k16 and m16n8k8 (row.col, fp32 accumulate) for one lane of a warp, by the PTX ISA's fragment layouts.
void ld_emu_mma_m16n8k16(float* c, const unsigned* a, unsigned b0, unsigned b1, int bf16);
void ld_emu_mma_m16n8k8(float* c, const unsigned* a, unsigned b, int bf16);
// ldmatrix.sync.m8n8.x4(.trans).b16 for one lane: lanes 8j..8j+7 give the row addresses of matrix j.
void ld_emu_ldmatrix_x4(unsigned* r, const unsigned short* row, int trans);
// cp.async with its asynchrony: copies land only when a wait_group requires them.
void ld_emu_cp_async16(void* dst, const void* src, int valid);
void ld_emu_cp_commit();
void ld_emu_cp_wait(int n);
#elif defined(__clang__) && !defined(__NVCC__) && !defined(__CUDACC_RTC__)
#define LD_CLANG_NOCUDA 1
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __forceinline__ __attribute__((always_inline)) inline
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
#endif

#define LD_DEV __device__ __forceinline__

// ---- thread and block indices
#if defined(LD_HOST_EMU)
LD_DEV unsigned ld_tid() { return ld_emu_tid; }
LD_DEV unsigned ld_ntid() { return ld_emu_ntid; }
LD_DEV unsigned ld_bid_x() { return ld_emu_bid[0]; }
LD_DEV unsigned ld_bid_y() { return ld_emu_bid[1]; }
LD_DEV unsigned ld_bid_z() { return ld_emu_bid[2]; }
LD_DEV unsigned ld_nbid_x() { return ld_emu_nbid[0]; }
LD_DEV unsigned ld_nbid_y() { return ld_emu_nbid[1]; }
LD_DEV unsigned ld_nbid_z() { return ld_emu_nbid[2]; }
LD_DEV void ld_sync() { ld_emu_sync(); }
LD_DEV float ld_shfl_xor(float v, int lane) { return ld_emu_shfl_xor(v, lane); }
#elif defined(LD_CLANG_NOCUDA)
LD_DEV unsigned ld_tid() { return __nvvm_read_ptx_sreg_tid_x(); }
LD_DEV unsigned ld_ntid() { return __nvvm_read_ptx_sreg_ntid_x(); }
LD_DEV unsigned ld_bid_x() { return __nvvm_read_ptx_sreg_ctaid_x(); }
LD_DEV unsigned ld_bid_y() { return __nvvm_read_ptx_sreg_ctaid_y(); }
LD_DEV unsigned ld_bid_z() { return __nvvm_read_ptx_sreg_ctaid_z(); }
LD_DEV unsigned ld_nbid_x() { return __nvvm_read_ptx_sreg_nctaid_x(); }
LD_DEV unsigned ld_nbid_y() { return __nvvm_read_ptx_sreg_nctaid_y(); }
LD_DEV unsigned ld_nbid_z() { return __nvvm_read_ptx_sreg_nctaid_z(); }
LD_DEV void ld_sync() { __syncthreads(); }
LD_DEV float ld_shfl_xor(float v, int lane) { return __nvvm_shfl_sync_bfly_f32(0xffffffffu, v, lane, 31); }
#else
LD_DEV unsigned ld_tid() { return threadIdx.x; }
LD_DEV unsigned ld_ntid() { return blockDim.x; }
LD_DEV unsigned ld_bid_x() { return blockIdx.x; }
LD_DEV unsigned ld_bid_y() { return blockIdx.y; }
LD_DEV unsigned ld_bid_z() { return blockIdx.z; }
LD_DEV unsigned ld_nbid_x() { return gridDim.x; }
LD_DEV unsigned ld_nbid_y() { return gridDim.y; }
LD_DEV unsigned ld_nbid_z() { return gridDim.z; }
LD_DEV void ld_sync() { __syncthreads(); }
LD_DEV float ld_shfl_xor(float v, int lane) { return __shfl_xor_sync(0xffffffffu, v, lane, 32); }
#endif

// ---- the few instructions the kernels need, as PTX on the GPU and as libm / F16C calls in host emulation
#if defined(LD_HOST_EMU)
LD_DEV float ld_bits_to_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
LD_DEV unsigned ld_float_to_bits(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
LD_DEV float ld_half_to_float(unsigned short h) { return _cvtsh_ss(h); }
LD_DEV unsigned short ld_float_to_half(float v) { return (unsigned short)_cvtss_sh(v, 0 /* round to nearest even */); }
LD_DEV float ld_exp2(float x) { return std::exp2(x); }
LD_DEV float ld_rcp(float x) { return 1.0f / x; }
LD_DEV float ld_sqrt(float x) { return std::sqrt(x); }
LD_DEV float ld_fma(float a, float b, float c) { return std::fma(a, b, c); }
LD_DEV float ld_rint(float x) { return std::nearbyint(x); }
LD_DEV float ld_sin_approx(float x) { return std::sin(x); }
LD_DEV float ld_cos_approx(float x) { return std::cos(x); }
#else
LD_DEV float ld_bits_to_float(unsigned u) { float f; asm("mov.b32 %0, %1;" : "=f"(f) : "r"(u)); return f; }
LD_DEV unsigned ld_float_to_bits(float f) { unsigned u; asm("mov.b32 %0, %1;" : "=r"(u) : "f"(f)); return u; }
LD_DEV float ld_half_to_float(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
LD_DEV unsigned short ld_float_to_half(float v) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v)); return h; }
LD_DEV float ld_exp2(float x) { float y; asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
LD_DEV float ld_rcp(float x) { float y; asm("rcp.rn.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
LD_DEV float ld_sqrt(float x) { float y; asm("sqrt.rn.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
LD_DEV float ld_fma(float a, float b, float c) { float y; asm("fma.rn.f32 %0, %1, %2, %3;" : "=f"(y) : "f"(a), "f"(b), "f"(c)); return y; }
LD_DEV float ld_rint(float x) { float y; asm("cvt.rni.f32.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
/// The fast sine and cosine (__sinf / __cosf): what curand's Box–Muller uses on the device.
LD_DEV float ld_sin_approx(float x) { float y; asm("sin.approx.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
LD_DEV float ld_cos_approx(float x) { float y; asm("cos.approx.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
#endif

/// Grid-stride loop over [0, n) with 64-bit indices (activations can pass 2^31 elements at batch 8).
#define LD_GRID_LOOP(i, n) \
    for (long long i = (long long)ld_bid_x() * ld_ntid() + ld_tid(); i < (n); i += (long long)ld_nbid_x() * ld_ntid())

// ---- storage types: fp32, fp16 (IEEE half) and bf16, all computed in fp32
struct ld_half { unsigned short bits; };
struct ld_bf16 { unsigned short bits; };

LD_DEV float ld_load(const float* p) { return *p; }
LD_DEV float ld_load(const ld_half* p) { return ld_half_to_float(p->bits); }
LD_DEV float ld_load(const ld_bf16* p) { return ld_bits_to_float(((unsigned)p->bits) << 16); }

LD_DEV void ld_store(float* p, float v) { *p = v; }
LD_DEV void ld_store(ld_half* p, float v) { p->bits = ld_float_to_half(v); }
LD_DEV void ld_store(ld_bf16* p, float v)
{
    // Round to nearest even, as PyTorch and cvt.rn.bf16.f32 do; written out so it needs no sm_80 instruction.
    unsigned u = ld_float_to_bits(v);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) { p->bits = (unsigned short)((u >> 16) | 0x40u); return; }
    u += 0x7fffu + ((u >> 16) & 1u);
    p->bits = (unsigned short)(u >> 16);
}

// ---- 16-byte vectors. Memory-bound kernels move 8 elements a thread at a time (one 16-byte access for fp16 / bf16,
// two for fp32), so a warp's loads are full 512-byte transactions. A vector type the compilers load in one
// instruction: nvcc's uint4, clang's ext_vector_type (a plain struct would be split into 4-byte loads).
#if defined(__NVCC__) || defined(__CUDACC_RTC__)
typedef uint4 ld_u4;
#else
typedef unsigned ld_u4 __attribute__((ext_vector_type(4)));
#endif

LD_DEV unsigned ld_pack2(unsigned short lo, unsigned short hi) { return (unsigned)lo | ((unsigned)hi << 16); }
LD_DEV unsigned short ld_bits(float v, ld_half) { ld_half h; ld_store(&h, v); return h.bits; }
LD_DEV unsigned short ld_bits(float v, ld_bf16) { ld_bf16 h; ld_store(&h, v); return h.bits; }
LD_DEV float ld_from_bits(unsigned short h, ld_half) { return ld_half_to_float(h); }
LD_DEV float ld_from_bits(unsigned short h, ld_bf16) { return ld_bits_to_float((unsigned)h << 16); }

/// Whether p is 16-byte aligned (the vector paths need it; pool allocations are 256-byte aligned).
LD_DEV bool ld_aligned16(const void* p) { return ((unsigned long long)p & 15u) == 0; }

/// Eight elements from a 16-byte-aligned address into fp32.
template <class T>
LD_DEV void ld_load8(const T* p, float (&v)[8])
{
    ld_u4 u = *(const ld_u4*)p;
    const unsigned w[4] = { u.x, u.y, u.z, u.w };
#pragma unroll
    for (int k = 0; k < 4; k++) { v[2 * k] = ld_from_bits((unsigned short)(w[k] & 0xffffu), T()); v[2 * k + 1] = ld_from_bits((unsigned short)(w[k] >> 16), T()); }
}
LD_DEV void ld_load8(const float* p, float (&v)[8])
{
    ld_u4 a = ((const ld_u4*)p)[0], b = ((const ld_u4*)p)[1];
    v[0] = ld_bits_to_float(a.x); v[1] = ld_bits_to_float(a.y); v[2] = ld_bits_to_float(a.z); v[3] = ld_bits_to_float(a.w);
    v[4] = ld_bits_to_float(b.x); v[5] = ld_bits_to_float(b.y); v[6] = ld_bits_to_float(b.z); v[7] = ld_bits_to_float(b.w);
}

/// Eight fp32 values rounded to T and stored at a 16-byte-aligned address.
template <class T>
LD_DEV void ld_store8(T* p, const float (&v)[8])
{
    ld_u4 u;
    u.x = ld_pack2(ld_bits(v[0], T()), ld_bits(v[1], T()));
    u.y = ld_pack2(ld_bits(v[2], T()), ld_bits(v[3], T()));
    u.z = ld_pack2(ld_bits(v[4], T()), ld_bits(v[5], T()));
    u.w = ld_pack2(ld_bits(v[6], T()), ld_bits(v[7], T()));
    *(ld_u4*)p = u;
}
LD_DEV void ld_store8(float* p, const float (&v)[8])
{
    ld_u4 a, b;
    a.x = ld_float_to_bits(v[0]); a.y = ld_float_to_bits(v[1]); a.z = ld_float_to_bits(v[2]); a.w = ld_float_to_bits(v[3]);
    b.x = ld_float_to_bits(v[4]); b.y = ld_float_to_bits(v[5]); b.z = ld_float_to_bits(v[6]); b.w = ld_float_to_bits(v[7]);
    ((ld_u4*)p)[0] = a;
    ((ld_u4*)p)[1] = b;
}

/// Up to 8 elements [0, count) through scalar accesses (the tails and unaligned cases of the vector paths).
template <class T>
LD_DEV void ld_load_n(const T* p, float (&v)[8], int count)
{
#pragma unroll
    for (int k = 0; k < 8; k++) v[k] = k < count ? ld_load(p + k) : 0.0f;
}
template <class T>
LD_DEV void ld_store_n(T* p, const float (&v)[8], int count)
{
#pragma unroll
    for (int k = 0; k < 8; k++) if (k < count) ld_store(p + k, v[k]);
}

// ---- division without 64-bit (or any) divide instructions: q = n / d for n < 2^31 as (mulhi(n, mul) + n) >> shift,
// with mul and shift from the host (FastDivmod.For in src/Engine/Backends/Cuda/Kernels; Granlund–Montgomery).
LD_DEV unsigned ld_mulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }

struct FastDivmod { int d; unsigned mul, shift; };

LD_DEV int ld_div(int n, const FastDivmod& f) { return (int)((ld_mulhi((unsigned)n, f.mul) + (unsigned)n) >> f.shift); }

/// Instantiates a macro once per storage type: M(type, suffix). Kernel names end in _f32, _f16 or _bf16.
#define LD_FOR_TYPES(M) M(float, f32) M(ld_half, f16) M(ld_bf16, bf16)

// ---- math without libdevice (fp32; errors of a few ulp, far under the selftest's 1e-5 relative bound)
#define LD_LOG2E 1.4426950408889634f

LD_DEV float ld_max(float a, float b) { return a > b ? a : b; }
LD_DEV float ld_min(float a, float b) { return a < b ? a : b; }
LD_DEV float ld_abs(float a) { return a < 0.0f ? -a : a; }

/// e^x with the argument split so that the error stays near 2 ulp for |x| up to ~80:
/// x·log2(e) = n + f with n an integer, 2^f from ex2.approx, 2^n by exponent arithmetic.
LD_DEV float ld_exp(float x)
{
    if (x < -104.0f) return 0.0f;
    if (x > 88.7f) return ld_bits_to_float(0x7f800000u);
    float t = x * LD_LOG2E;
    float n = ld_rint(t);
    // f = x·log2e − n computed with a corrected product (log2e split in hi + lo) to keep the low bits of x.
    float f = ld_fma(x, LD_LOG2E, -n);
    f = ld_fma(x, 1.925963033500011e-8f, f);
    float p = ld_exp2(f);
    int ni = (int)n;
    // Scale by 2^n in two steps so that n down to -149 (subnormal results) and up to 128 stay exact.
    int n1 = ni / 2, n2 = ni - n1;
    return p * ld_bits_to_float((unsigned)(n1 + 127) << 23) * ld_bits_to_float((unsigned)(n2 + 127) << 23);
}

/// ln x for normal positive x, within ~2.5 ulp (curand's Box–Muller uses logf; lg2.approx would lose the
/// relative accuracy near x = 1, where ln x is tiny): x = m·2^e with m in [√½, √2), ln m = 2·atanh(f) with
/// f = (m − 1)/(m + 1), |f| ≤ 0.172, as an odd series to f⁹; e·ln 2 in two parts.
LD_DEV float ld_log(float x)
{
    unsigned u = ld_float_to_bits(x);
    int e = (int)((u >> 23) & 0xffu) - 127;
    float m = ld_bits_to_float((u & 0x007fffffu) | 0x3f800000u);
    if (m > 1.41421356f) { m *= 0.5f; e += 1; }
    float f = (m - 1.0f) / (m + 1.0f), f2 = f * f;
    float series = ld_fma(f2, ld_fma(f2, ld_fma(f2, ld_fma(f2, 1.0f / 9.0f, 1.0f / 7.0f), 1.0f / 5.0f), 1.0f / 3.0f), 1.0f);
    float lnm = 2.0f * f * series;
    return ld_fma((float)e, 0.693145751953125f, ld_fma((float)e, 1.42860682e-6f, lnm));
}

LD_DEV float ld_sigmoid(float x) { return 1.0f / (1.0f + ld_exp(-x)); }

/// The tail of erf for |a| > 0.927734375: returns r with erf(|a|) = 1 − e^r (minimax, Juffa's construction).
LD_DEV float ld_erf_tail_log(float t)
{
    float s = t * t, u, r;
    r = ld_fma(-1.72853470e-5f, t, 3.83197126e-4f);
    u = ld_fma(-3.88396438e-3f, t, 2.42546219e-2f);
    r = ld_fma(r, s, u);
    r = ld_fma(r, t, -1.06777877e-1f);
    r = ld_fma(r, t, -6.34846687e-1f);
    r = ld_fma(r, t, -1.28717512e-1f);
    return ld_fma(r, t, -t);
}

/// erf(a) for |a| <= 0.927734375 (odd minimax polynomial).
LD_DEV float ld_erf_core(float a)
{
    float s = a * a, r = -5.96761703e-4f;
    r = ld_fma(r, s, 4.99119423e-3f);
    r = ld_fma(r, s, -2.67681349e-2f);
    r = ld_fma(r, s, 1.12819925e-1f);
    r = ld_fma(r, s, -3.76125336e-1f);
    r = ld_fma(r, s, 1.28379166e-1f);
    return ld_fma(r, a, a);
}

/// erf(x) in fp32, max relative error about 1e-7.
LD_DEV float ld_erf(float a)
{
    float t = ld_abs(a);
    if (t <= 0.927734375f) return ld_erf_core(a);
    float r = 1.0f - ld_exp(ld_erf_tail_log(t));
    return a < 0.0f ? -r : r;
}

/// Exact GELU, x·(1 + erf(x/√2))/2. For very negative x, 1 + erf is taken as erfc(|a|) = e^r directly, so the
/// tiny result keeps its relative precision (the CPU reference computes it in double).
LD_DEV float ld_gelu(float x)
{
    float a = x * 0.70710678118654752f;
    float one_plus = a < -0.927734375f ? ld_exp(ld_erf_tail_log(-a)) : 1.0f + ld_erf(a);
    return 0.5f * x * one_plus;
}

// ---- reductions
#if defined(LD_HOST_EMU)
LD_DEV float ld_warp_sum(float v) { return ld_emu_warp_reduce(v, 0); }
LD_DEV float ld_warp_max(float v) { return ld_emu_warp_reduce(v, 1); }
/// Three values of the lane lane ^ mask, in place.
LD_DEV void ld_shfl_xor3(float (&v)[3], int mask) { ld_emu_shfl_xor3(v, mask); }
#else
LD_DEV float ld_warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) v += ld_shfl_xor(v, o);
    return v;
}

LD_DEV float ld_warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) v = ld_max(v, ld_shfl_xor(v, o));
    return v;
}

/// Three values of the lane lane ^ mask, in place.
LD_DEV void ld_shfl_xor3(float (&v)[3], int mask)
{
#pragma unroll
    for (int i = 0; i < 3; i++) v[i] = ld_shfl_xor(v[i], mask);
}
#endif

/// Sum over the block (blockDim a multiple of 32, at most 1024); every thread gets the result.
/// `scratch` holds 32 floats of shared memory; the function syncs before reusing it.
LD_DEV float ld_block_sum(float v, float* scratch)
{
    unsigned lane = ld_tid() & 31u, warp = ld_tid() >> 5, warps = ld_ntid() >> 5;
    v = ld_warp_sum(v);
    ld_sync();
    if (lane == 0) scratch[warp] = v;
    ld_sync();
    v = lane < warps ? scratch[lane] : 0.0f;
    return ld_warp_sum(v);
}

LD_DEV float ld_block_max(float v, float* scratch)
{
    unsigned lane = ld_tid() & 31u, warp = ld_tid() >> 5, warps = ld_ntid() >> 5;
    v = ld_warp_max(v);
    ld_sync();
    if (lane == 0) scratch[warp] = v;
    ld_sync();
    v = lane < warps ? scratch[lane] : -3.402823466e38f;
    return ld_warp_max(v);
}

// ---- tensor cores (sm_80+): mma.sync m16n8k16 with fp32 accumulators, ldmatrix, cp.async. In host emulation the
// warp-collective instructions go through tests/Cuda/emu (by the PTX ISA's fragment layouts), and cp.async copies
// land only when a wait_group requires them (the latest the hardware may complete them).
// Fragment layouts (g = lane / 4, t = lane % 4): A regs (g, 2t..2t+1), (g+8, 2t..), (g, 2t+8..), (g+8, 2t+8..);
// B regs (k 2t..2t+1, n g), (k 2t+8.., n g); C (g, 2t..2t+1), (g+8, 2t..2t+1). m16n8k8 has the first two A regs and
// the first B reg of these, and the same C.
#if defined(LD_HOST_EMU)
LD_DEV void ld_mma(float* c, const unsigned* a, unsigned b0, unsigned b1, ld_half) { ld_emu_mma_m16n8k16(c, a, b0, b1, 0); }
LD_DEV void ld_mma(float* c, const unsigned* a, unsigned b0, unsigned b1, ld_bf16) { ld_emu_mma_m16n8k16(c, a, b0, b1, 1); }
LD_DEV void ld_mma_k8(float* c, const unsigned* a, unsigned b, ld_half) { ld_emu_mma_m16n8k8(c, a, b, 0); }
LD_DEV void ld_mma_k8(float* c, const unsigned* a, unsigned b, ld_bf16) { ld_emu_mma_m16n8k8(c, a, b, 1); }
LD_DEV void ld_ldmatrix_x4(unsigned* r, const unsigned short* row) { ld_emu_ldmatrix_x4(r, row, 0); }
LD_DEV void ld_ldmatrix_x4_trans(unsigned* r, const unsigned short* row) { ld_emu_ldmatrix_x4(r, row, 1); }
LD_DEV void ld_cp_async16(void* dst, const void* src, bool valid) { ld_emu_cp_async16(dst, src, valid ? 1 : 0); }
LD_DEV void ld_cp_async_commit() { ld_emu_cp_commit(); }
template <int N> LD_DEV void ld_cp_async_wait() { ld_emu_cp_wait(N); }
#else
LD_DEV void ld_mma(float* c, const unsigned* a, unsigned b0, unsigned b1, ld_half)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

LD_DEV void ld_mma(float* c, const unsigned* a, unsigned b0, unsigned b1, ld_bf16)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/// mma.sync m16n8k8: A is 2 registers (rows g and g + 8, columns 2t..2t+1), B one (k 2t..2t+1, n g).
LD_DEV void ld_mma_k8(float* c, const unsigned* a, unsigned b, ld_half)
{
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]) : "r"(a[0]), "r"(a[1]), "r"(b));
}

LD_DEV void ld_mma_k8(float* c, const unsigned* a, unsigned b, ld_bf16)
{
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3]) : "r"(a[0]), "r"(a[1]), "r"(b));
}

/// A generic pointer into shared memory as the 32-bit shared-window address ldmatrix and cp.async take.
LD_DEV unsigned ld_smem_addr(const void* p)
{
    unsigned a;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
    return a;
}

/// Four 8×8 b16 matrices from shared memory: lane 8j + i gives the address of row i of matrix j (16 bytes, 16-byte
/// aligned); lane l receives in r[j] row l / 4, columns 2(l % 4) and 2(l % 4) + 1 of matrix j.
LD_DEV void ld_ldmatrix_x4(unsigned* r, const unsigned short* row)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(ld_smem_addr(row)) : "memory");
}

/// The same, transposed: lane l receives rows 2(l % 4) and 2(l % 4) + 1 of column l / 4 of matrix j.
LD_DEV void ld_ldmatrix_x4_trans(unsigned* r, const unsigned short* row)
{
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(ld_smem_addr(row)) : "memory");
}

/// 16 bytes global → shared without passing through registers; !valid writes 16 zero bytes (src-size 0).
LD_DEV void ld_cp_async16(void* dst, const void* src, bool valid)
{
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(ld_smem_addr(dst)), "l"(src), "r"(valid ? 16 : 0) : "memory");
}
LD_DEV void ld_cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
/// Waits until at most N of this thread's most recent cp.async groups are still in flight.
template <int N> LD_DEV void ld_cp_async_wait() { asm volatile("cp.async.wait_group %0;" :: "n"(N) : "memory"); }
#endif

// ---- FlashAttention-2 on mma.sync: what the tensor-core kernels (attention_mma*.cu, attention_d8.cu,
// attention_cross.cu) share. A warp owns 16 query rows; this thread holds rows r0 (= the warp's first + g) and
// r1 = r0 + 8, g = lane / 4, t = lane % 4; a key tile is NS n-tiles of 8 keys (64 keys in the streaming kernels), the
// output NO n-tiles of 8 dims (8 for head width 64, 1 for 8). Scores live in the log2 domain (scale · log2 e folded in).
#define LD_NEG_BIG (-3.402823466e38f)

/// Q's A fragments for the 4 k-steps over the 64 dims, straight from global memory (zeros past the last query).
/// qh points at row 0 of this batch item and head; rows are width elements apart.
template <class T>
LD_DEV void ld_flash_load_q(unsigned (&qa)[4][4], const T* qh, long long width, int r0, int r1, int nq, int t)
{
    const unsigned* q0p = (const unsigned*)(qh + (long long)(r0 < nq ? r0 : 0) * width);
    const unsigned* q1p = (const unsigned*)(qh + (long long)(r1 < nq ? r1 : 0) * width);
#pragma unroll
    for (int s = 0; s < 4; s++)
    {
        qa[s][0] = r0 < nq ? q0p[s * 8 + t] : 0u;
        qa[s][1] = r1 < nq ? q1p[s * 8 + t] : 0u;
        qa[s][2] = r0 < nq ? q0p[s * 8 + 4 + t] : 0u;
        qa[s][3] = r1 < nq ? q1p[s * 8 + 4 + t] : 0u;
    }
}

/// The online softmax of one key tile (keys j0 .. j0 + 8·NS − 1, NS n-tiles of 8) on S's accumulators: scale into
/// the log2 domain, mask keys past nk (and past the row when causal), update the row maxima m and sums l (a row
/// lives on the 4 threads of a group), rescale the NO n-tiles of O, and pack P = 2^(S − m) (masked entries exactly
/// 0) as the A operand of NS / 2 k-steps of 16 keys.
template <class T, int NS, int NO>
LD_DEV void ld_flash_softmax(float (&s)[NS][4], float (&acc)[NO][4], unsigned (&pa)[NS / 2][4], float& m0, float& m1, float& l0, float& l1,
                             int j0, int r0, int r1, int t, int nk, int causal, float sl2)
{
    const T tag = T();
    float mx0 = m0, mx1 = m1;
#pragma unroll
    for (int n = 0; n < NS; n++)
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
    for (int n = 0; n < NO; n++) { acc[n][0] *= c0; acc[n][1] *= c0; acc[n][2] *= c1; acc[n][3] *= c1; }
#pragma unroll
    for (int n = 0; n < NS; n++)
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
}

/// The end: the row sums gathered over the row's 4 threads, O / l (NO n-tiles of 8 dims) rounded to T into rows r0
/// and r1 (those < nq) of oh (row 0 of this batch item and head).
template <class T, int NO>
LD_DEV void ld_flash_store(T* oh, long long width, const float (&acc)[NO][4], float l0, float l1, int r0, int r1, int nq, int t)
{
    const T tag = T();
    l0 += ld_shfl_xor(l0, 1); l0 += ld_shfl_xor(l0, 2);
    l1 += ld_shfl_xor(l1, 1); l1 += ld_shfl_xor(l1, 2);
    float i0 = 1.0f / l0, i1 = 1.0f / l1;
    T* o0 = oh + (long long)r0 * width;
    T* o1 = oh + (long long)r1 * width;
#pragma unroll
    for (int n = 0; n < NO; n++)
    {
        int d = n * 8 + 2 * t;
        if (r0 < nq) *(unsigned*)(o0 + d) = ld_pack2(ld_bits(acc[n][0] * i0, tag), ld_bits(acc[n][1] * i0, tag));
        if (r1 < nq) *(unsigned*)(o1 + d) = ld_pack2(ld_bits(acc[n][2] * i1, tag), ld_bits(acc[n][3] * i1, tag));
    }
}

/// S = Q·Kᵀ for NS n-tiles of 8 keys at head width 64, K row-major [key][dim] in shared memory (row pitch LDP halves):
/// per n-tile, one ldmatrix.x4 gives the B fragments of two k-steps (matrix j = dims p·32 + 8j .. +8 of keys
/// n·8 .. +8; lane 8j + i addresses key row i).
template <int LDP, class T, int NS>
LD_DEV void ld_flash_qk64(float (&s)[NS][4], const unsigned (&qa)[4][4], const unsigned short* kt, int lane, T tag)
{
#pragma unroll
    for (int n = 0; n < NS; n++)
    {
        s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
        for (int p = 0; p < 2; p++)
        {
            unsigned r[4];
            ld_ldmatrix_x4(r, kt + (n * 8 + (lane & 7)) * LDP + p * 32 + (lane >> 3) * 8);
            ld_mma(s[n], qa[2 * p], r[0], r[1], tag);
            ld_mma(s[n], qa[2 * p + 1], r[2], r[3], tag);
        }
    }
}

/// O += P·V for KS k-steps of 16 keys at head width 64, V row-major [key][dim] in shared memory: per k-step and pair
/// of 8-dim n-tiles, one ldmatrix.x4.trans (matrix j = keys st·16 + 8(j & 1) .. +8, dims np·16 + 8(j >> 1) .. +8)
/// gives both n-tiles' B fragments, so V is never transposed by hand.
template <int LDP, class T, int KS>
LD_DEV void ld_flash_pv64(float (&acc)[8][4], const unsigned (&pa)[KS][4], const unsigned short* vt, int lane, T tag)
{
#pragma unroll
    for (int st = 0; st < KS; st++)
    {
#pragma unroll
        for (int np = 0; np < 4; np++)
        {
            unsigned r[4];
            ld_ldmatrix_x4_trans(r, vt + (st * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * LDP + np * 16 + (lane >> 4) * 8);
            ld_mma(acc[2 * np], pa[st], r[0], r[1], tag);
            ld_mma(acc[2 * np + 1], pa[st], r[2], r[3], tag);
        }
    }
}

/// The head of a two-stage cp.async tile loop: issue tile it + 1 into the other stage (load(stage, tile), when there
/// is one; the stage is free because the previous iteration ended with a barrier), then wait for tile it. A group is
/// committed every iteration, possibly empty, so "all but the newest" is tile it.
template <class Load>
LD_DEV void ld_pipeline_next(int it, int tiles, Load load)
{
    if (it + 1 < tiles) load((it + 1) & 1, it + 1);
    ld_cp_async_commit();
    ld_cp_async_wait<1>();
    ld_sync();
}

