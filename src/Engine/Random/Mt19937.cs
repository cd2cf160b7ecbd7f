namespace LayerDiffusion.Native.Random;

/// <summary>
/// The standard 32-bit Mersenne Twister (MT19937), seeded the way PyTorch's CPU generator seeds it:
/// only the low 32 bits of the seed count (torch's <c>at::mt19937(seed)</c> keeps <c>seed &amp; 0xFFFFFFFF</c>).
/// </summary>
public sealed class Mt19937
{
    private const int N = 624;
    private const int M = 397;
    private const uint MatrixA = 0x9908B0DFu;
    private const uint UpperMask = 0x80000000u;
    private const uint LowerMask = 0x7FFFFFFFu;

    private readonly uint[] _state = new uint[N];
    private int _next;

    public Mt19937(ulong seed)
    {
        _state[0] = (uint)seed;
        for (int j = 1; j < N; j++)
            _state[j] = 1812433253u * (_state[j - 1] ^ (_state[j - 1] >> 30)) + (uint)j;
        _next = N; // the first draw twists, as in std::mt19937 and torch
    }

    public uint NextUInt32()
    {
        if (_next >= N) Twist();
        uint y = _state[_next++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>torch's <c>random64()</c>: the first 32-bit draw is the high half.</summary>
    public ulong NextUInt64()
    {
        ulong hi = NextUInt32();
        ulong lo = NextUInt32();
        return (hi << 32) | lo;
    }

    private void Twist()
    {
        var mt = _state;
        for (int i = 0; i < N; i++)
        {
            uint y = (mt[i] & UpperMask) | (mt[(i + 1) % N] & LowerMask);
            uint v = mt[(i + M) % N] ^ (y >> 1);
            if ((y & 1u) != 0) v ^= MatrixA;
            mt[i] = v;
        }
        _next = 0;
    }
}
