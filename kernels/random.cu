// The GPU noise source: torch.randn on a CUDA generator (torch.Generator('cuda').manual_seed(seed)), which is
// A1111/Forge's default seed source. Mirrors src/Engine/Random/Philox.cs and TorchCudaGenerator.cs line for line:
// Philox4x32-10 as curand's curand_init(seed, subsequence, offset) + curand_normal4, laid out as torch's
// distribution_nullary_kernel lays it out. The host passes torch's launch geometry (threads T = 256 · grid, grid
// from the device's SM count); this kernel may run on any grid, because each torch thread i is a loop index here.
#include "ld_cuda.h"

#define LD_PHILOX_M0 0xD2511F53u
#define LD_PHILOX_M1 0xCD9E8D57u
#define LD_PHILOX_W0 0x9E3779B9u
#define LD_PHILOX_W1 0xBB67AE85u

/// Philox4x32-10 on counter c with key (k0, k1): ten rounds, the key bumped between rounds.
LD_DEV void ld_philox10(unsigned c[4], unsigned k0, unsigned k1)
{
#pragma unroll
    for (int round = 0; round < 10; round++)
    {
        if (round > 0) { k0 += LD_PHILOX_W0; k1 += LD_PHILOX_W1; }
        unsigned hi0 = ld_mulhi(LD_PHILOX_M0, c[0]), lo0 = LD_PHILOX_M0 * c[0];
        unsigned hi1 = ld_mulhi(LD_PHILOX_M1, c[2]), lo1 = LD_PHILOX_M1 * c[2];
        unsigned n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0; c[1] = lo1; c[2] = n2; c[3] = lo0;
    }
}

/// curand's _curand_box_muller on the device: u, v by fma as nvcc contracts them, s = √(−2 ln u), and the fast
/// sin/cos (__sincosf, i.e. sin.approx / cos.approx) that curand uses.
LD_DEV void ld_box_muller(unsigned x, unsigned y, float* out_sin, float* out_cos)
{
    const float pow32_inv = 2.3283064e-10f, pow32_inv_2pi = 2.3283064e-10f * 6.2831855f;
    float u = ld_fma((float)x, pow32_inv, pow32_inv / 2.0f);
    float v = ld_fma((float)y, pow32_inv_2pi, pow32_inv_2pi / 2.0f);
    float s = ld_sqrt(-2.0f * ld_log(u));
    *out_sin = s * ld_sin_approx(v);
    *out_cos = s * ld_cos_approx(v);
}

/// y[n] (fp32) = torch.randn(n) for a generator at Philox block base_block (= offset / 4): torch thread i
/// (< threads) runs curand_init(seed, i, 4·base_block) and on its k-th iteration one curand_normal4 whose
/// component c goes to element i + k·4T + c·T.
extern "C" __global__ void ld_randn_philox_f32(unsigned long long seed, unsigned long long base_block, long long threads, long long n, float* y)
{
    const long long stride = threads * 4;
    const long long rounded = ((n - 1) / stride + 1) * stride;
    const long long active = threads < n ? threads : n;
    LD_GRID_LOOP(idx, active)
    {
        unsigned long long block = base_block;
        for (long long linear = idx; linear < rounded; linear += stride, block++)
        {
            unsigned c[4] = { (unsigned)block, (unsigned)(block >> 32), (unsigned)idx, (unsigned)((unsigned long long)idx >> 32) };
            ld_philox10(c, (unsigned)seed, (unsigned)(seed >> 32));
            float v[4];
            ld_box_muller(c[0], c[1], &v[0], &v[1]);
            ld_box_muller(c[2], c[3], &v[2], &v[3]);
#pragma unroll
            for (int k = 0; k < 4; k++)
            {
                long long at = linear + k * threads;
                if (at < n) y[at] = v[k];
            }
        }
    }
}
