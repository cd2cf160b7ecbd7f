using System.Runtime.CompilerServices;

namespace LayerDiffusion.Native.Random;

/// <summary>
/// Philox4x32-10 and curand's Box–Muller, the two pure pieces of CUDA's <c>curand_normal4</c>.
/// Written as plain counter → 4 × uint32 → normals functions so a CUDA kernel can mirror them line for line.
/// </summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53u;
    private const uint M1 = 0xCD9E8D57u;
    private const uint W0 = 0x9E3779B9u;
    private const uint W1 = 0xBB67AE85u;

    /// <summary>2^-32 and 2π·2^-32 as curand's float constants (CURAND_2POW32_INV, CURAND_2POW32_INV_2PI).</summary>
    private const float Pow32Inv = 2.3283064e-10f;
    private const float Pow32Inv2Pi = 2.3283064e-10f * 6.2831855f;

    /// <summary>One Philox4x32-10 block: ten rounds over the counter, the key bumped between rounds.</summary>
    public static (uint X, uint Y, uint Z, uint W) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += W0;
                k1 += W1;
            }
            ulong p0 = (ulong)M0 * c0;
            ulong p1 = (ulong)M1 * c2;
            uint n0 = (uint)(p1 >> 32) ^ c1 ^ k0;
            uint n1 = (uint)p1;
            uint n2 = (uint)(p0 >> 32) ^ c3 ^ k1;
            uint n3 = (uint)p0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>
    /// curand's <c>_curand_box_muller(x, y)</c>: u = x·2^-32 + 2^-33, v = y·2π·2^-32 + π·2^-32 in float,
    /// s = √(−2 ln u); returns (s·sin v, s·cos v). CUDA uses the fast <c>__sincosf</c>, so this CPU version is
    /// within ~2.5e-6 of the device, not bit-exact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (float Sin, float Cos) BoxMuller(uint x, uint y)
    {
        float u = MathF.FusedMultiplyAdd(x, Pow32Inv, Pow32Inv / 2f);
        float v = MathF.FusedMultiplyAdd(y, Pow32Inv2Pi, Pow32Inv2Pi / 2f);
        float s = MathF.Sqrt(-2f * (float)Math.Log(u));
        return (s * (float)Math.Sin(v), s * (float)Math.Cos(v));
    }

    /// <summary>
    /// <c>curand_normal4</c> for a Philox state created by <c>curand_init(seed, subsequence, 0)</c> and advanced to
    /// block <paramref name="blockIndex"/> (= torch offset / 4 + iterations done): counter = (block, subsequence),
    /// key = (seed low, seed high).
    /// </summary>
    public static (float X, float Y, float Z, float W) Normal4(ulong seed, ulong subsequence, ulong blockIndex)
    {
        var r = Block((uint)blockIndex, (uint)(blockIndex >> 32), (uint)subsequence, (uint)(subsequence >> 32),
            (uint)seed, (uint)(seed >> 32));
        var a = BoxMuller(r.X, r.Y);
        var b = BoxMuller(r.Z, r.W);
        return (a.Sin, a.Cos, b.Sin, b.Cos);
    }
}
