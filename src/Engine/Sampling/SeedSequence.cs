using System.Numerics;

namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// numpy's <c>SeedSequence</c> (numpy/random/bit_generator.pyx, numpy ≥ 1.19): the entropy pool torchsde seeds
/// every Brownian interval from. Only what torchsde uses: non-negative integer entropy, an integer spawn key, any
/// pool size, and <c>generate_state(n)</c> as uint32 words.
/// </summary>
public sealed class SeedSequence
{
    private const uint InitA = 0x43b0d7e5, MultA = 0x931e8875, InitB = 0x8b51f9dd, MultB = 0x58f38ded;
    private const uint MixMultL = 0xca01f9dd, MixMultR = 0x4973f715;
    private const int XShift = 16;
    public const int DefaultPoolSize = 4;

    private readonly uint[] _pool;

    public SeedSequence(BigInteger entropy, IReadOnlyList<BigInteger>? spawnKey = null, int poolSize = DefaultPoolSize)
    {
        if (poolSize < DefaultPoolSize) throw new ArgumentOutOfRangeException(nameof(poolSize), $"the pool needs at least {DefaultPoolSize} words");
        var run = Words(entropy);
        var spawn = new List<uint>();
        foreach (var k in spawnKey ?? []) spawn.AddRange(Words(k));
        // numpy 1.19+ pads the run entropy to the pool size when there is a spawn key (gh-16539).
        if (spawn.Count > 0) while (run.Count < poolSize) run.Add(0);
        _pool = new uint[poolSize];
        MixEntropy(_pool, [.. run, .. spawn]);
    }

    /// <summary>numpy's <c>_int_to_uint32_array</c>: 32-bit words, lowest first; 0 is one zero word.</summary>
    private static List<uint> Words(BigInteger n)
    {
        if (n.Sign < 0) throw new ArgumentOutOfRangeException(nameof(n), $"SeedSequence entropy must be non-negative (got {n})");
        var words = new List<uint>();
        if (n.IsZero) words.Add(0);
        for (; n > 0; n >>= 32) words.Add((uint)(n & uint.MaxValue));
        return words;
    }

    private static uint HashMix(uint value, ref uint hashConst)
    {
        value ^= hashConst;
        hashConst *= MultA;
        value *= hashConst;
        return value ^ (value >> XShift);
    }

    private static uint Mix(uint x, uint y)
    {
        uint result = MixMultL * x - MixMultR * y;
        return result ^ (result >> XShift);
    }

    private static void MixEntropy(uint[] mixer, uint[] entropy)
    {
        uint hashConst = InitA;
        for (int i = 0; i < mixer.Length; i++) mixer[i] = HashMix(i < entropy.Length ? entropy[i] : 0, ref hashConst);
        for (int src = 0; src < mixer.Length; src++)
            for (int dst = 0; dst < mixer.Length; dst++)
                if (src != dst) mixer[dst] = Mix(mixer[dst], HashMix(mixer[src], ref hashConst));
        for (int src = mixer.Length; src < entropy.Length; src++)
            for (int dst = 0; dst < mixer.Length; dst++)
                mixer[dst] = Mix(mixer[dst], HashMix(entropy[src], ref hashConst));
    }

    /// <summary><c>generate_state(n_words)</c> as uint32.</summary>
    public uint[] GenerateState(int words)
    {
        var state = new uint[words];
        uint hashConst = InitB;
        for (int i = 0; i < words; i++)
        {
            uint v = _pool[i % _pool.Length];
            v ^= hashConst;
            hashConst *= MultB;
            v *= hashConst;
            state[i] = v ^ (v >> XShift);
        }
        return state;
    }
}
