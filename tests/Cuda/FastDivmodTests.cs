using LayerDiffusion.Native.Backends.Cuda.Kernels;
using Xunit;

namespace LayerDiffusion.Native.Tests.Cuda;

/// <summary>The kernels' multiply-high division (kernels/ld_cuda.h ld_div, constants from FastDivmod.For) is exact for n &lt; 2^31.</summary>
public sealed class FastDivmodTests
{
    [Fact]
    public void DividesExactlyOverTheKernelsRange()
    {
        var rng = new System.Random(7);
        int[] divisors = [1, 2, 3, 5, 7, 8, 9, 63, 64, 77, 640, 1000, 4096, 16384, 65535, 65536, 1 << 20, (1 << 30) + 1, int.MaxValue];
        foreach (int d in divisors.Concat(Enumerable.Range(0, 200).Select(_ => rng.Next(1, int.MaxValue))))
        {
            var f = FastDivmod.For(d);
            int[] edges = [0, 1, d - 1, d, d + 1, int.MaxValue, int.MaxValue - 1, int.MaxValue / d * d, int.MaxValue / d * d - 1];
            foreach (int n in edges.Where(n => n >= 0).Concat(Enumerable.Range(0, 2000).Select(_ => rng.Next())))
                Assert.True(f.Divide(n) == n / d, $"{n} / {d}: {f.Divide(n)}");
        }
    }
}
