using LayerDiffusion.Native.Random;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

public sealed class RandomTests
{
    private static void Close(double[] want, ReadOnlySpan<float> got, double tol)
    {
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(got[i] - want[i]) <= tol, $"[{i}] = {got[i]}, want {want[i]}");
    }

    [Fact]
    public void Mt19937MatchesStdMt19937()
    {
        var mt = new Mt19937(0);
        Assert.Equal(2357136044u, mt.NextUInt32());
        Assert.Equal(2546248239u, mt.NextUInt32());
        Assert.Equal(3071714933u, mt.NextUInt32());
        // 5489 is std::mt19937's default seed; its 10000th output is specified by the C++ standard.
        var def = new Mt19937(5489);
        uint v = 0;
        for (int i = 0; i < 10000; i++) v = def.NextUInt32();
        Assert.Equal(4123659995u, v);
    }

    [Fact]
    public void CpuRandnLargeTensorsMatchTorch()
    {
        Close([-1.1258398, -1.1523602, -0.2505786, -0.4338788, 0.8487104, 0.6920092, -0.3160128, -2.1152194],
            TorchCpuRandom.Randn(0, [4, 128, 128]), 1e-6);
        Close([-1.5255959, -0.7502318, -0.6539809, -1.6094848, -0.1001672, -0.6091889, -0.9797723, -1.6090963],
            TorchCpuRandom.Randn(1, [4, 128, 128]), 1e-6);
        Close([-1.4798077, 0.4873060, -3.0127938, 0.4438552, 0.3597562, -0.0123481, 0.2185224, -1.2814684],
            TorchCpuRandom.Randn(12345, [4, 128, 128]), 1e-6);
        var last = TorchCpuRandom.Randn(0, [4, 128, 128]).AsSpan(65534);
        Close([0.2618549, -1.4578041], last, 1e-6);
    }

    [Fact]
    public void CpuRandnRedoesTheTailBlock()
    {
        // 20 = 16 + 4: elements 4..19 are redone from 16 fresh uniforms, so only 0..3 match a large tensor.
        var r = TorchCpuRandom.Randn(0, [20]);
        Close([-1.1258398, -1.1523602, -0.2505786, -0.4338788, 0.598839, -1.555095, -0.341360, 1.853006], r, 2e-6);
    }

    [Fact]
    public void CpuRandnSmallTensorsUseTheDoublePath()
    {
        Close([1.540996, -0.293429, -2.178789, 0.568431], TorchCpuRandom.Randn(0, [4]), 2e-6);
        // The sine half of the last pair is cached in the generator and returned by the next small draw.
        var gen = new TorchCpuGenerator(3);
        gen.Randn(7);
        float cached = gen.Randn(1)[0];
        Assert.Equal(TorchCpuRandom.Randn(3, [8])[7], cached);
    }

    [Fact]
    public void CpuSeedsUseTheLow32Bits()
    {
        Assert.Equal(TorchCpuRandom.Randn(7, [64]), TorchCpuRandom.Randn(7 + (1L << 32), [64]));
        Assert.Equal(TorchCpuRandom.Randn(4294967295, [64]), TorchCpuRandom.Randn(-1, [64]));
    }

    [Fact]
    public void CudaRandnMatchesTorchOnTheDevice()
    {
        Close([-0.9246624, -0.4253442, -2.6438458, 0.1451839], TorchCudaRandom.Randn(0, [4, 128, 128]), 5e-6);
        Close([0.1808258, -0.5522628, 0.9238133, -0.7349705], TorchCudaRandom.Randn(0, [4, 128, 128], draw: 2), 5e-6);
        Close([0.5786412, -0.5247559, -0.2919039, 0.0140139], TorchCudaRandom.Randn(12345, [4, 128, 128]), 5e-6);
    }

    [Fact]
    public void CudaGeneratorAdvancesItsOffsetPerDraw()
    {
        var gen = new TorchCudaGenerator(5);
        Assert.Equal(0UL, gen.Offset);
        var first = gen.Randn(1000);
        Assert.Equal(4UL, gen.Offset);
        var second = gen.Randn(1000);
        Assert.Equal(8UL, gen.Offset);
        Assert.NotEqual(first, second);
        Assert.Equal(second, TorchCudaRandom.Randn(5, [1000], draw: 2));
    }

    [Fact]
    public void CudaLayoutBeyondTheLaunchGridFollowsTheThreadMapping()
    {
        // One SM of 2048 threads: grid = 8 blocks, T = 2048 threads, 4T = 8192 values per loop iteration.
        const int sms = 1, n = 20000;
        var gen = new TorchCudaGenerator(99, sms);
        var (threads, increment) = gen.LaunchFor(n);
        Assert.Equal(2048, threads);
        Assert.Equal(4UL * 3, increment); // ⌈20000 / 8192⌉ = 3 iterations
        var data = gen.Randn(n);
        foreach (int e in new[] { 0, 1, 2047, 2048, 5000, 8191, 8192, 10240, 16384, 19999 })
        {
            long idx = e % threads, rest = e / threads;
            int component = (int)(rest % 4), iteration = (int)(rest / 4);
            var v = Philox.Normal4(99, (ulong)idx, (ulong)iteration);
            float want = component switch { 0 => v.X, 1 => v.Y, 2 => v.Z, _ => v.W };
            Assert.Equal(want, data[e]);
        }
        // A GPU with enough SMs lays the same tensor out differently: seeds are not portable across cards.
        Assert.NotEqual(data[2048], TorchCudaRandom.Randn(99, [n])[2048]);
        Assert.Equal(data[5], TorchCudaRandom.Randn(99, [n])[5]);
    }

    [Fact]
    public void PhiloxMatchesTheRandom123KnownAnswer()
    {
        // Random123 kat_vectors: philox4x32 10 rounds, counter and key all 0xFFFFFFFF... and the pi digits vector.
        var r = Philox.Block(0, 0, 0, 0, 0, 0);
        Assert.Equal((0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u), r);
        var f = Philox.Block(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu);
        Assert.Equal((0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu), f);
        var p = Philox.Block(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u);
        Assert.Equal((0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u), p);
    }
}
