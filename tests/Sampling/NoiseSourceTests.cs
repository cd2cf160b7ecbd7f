using LayerDiffusion.Native.Random;
using LayerDiffusion.Native.Sampling;
using Xunit;

namespace LayerDiffusion.Native.Tests.Sampling;

public sealed class NoiseSourceTests
{
    private static readonly int[] Latent = [4, 8, 12];
    private const int ImageSize = 4 * 8 * 12;

    [Theory]
    [InlineData(RngSource.Cpu)]
    [InlineData(RngSource.Gpu)]
    public void EachImageHasItsOwnGeneratorSeededWithSeedPlusIndex(RngSource source)
    {
        var noise = new SeededNoiseSource(1000, 3, Latent, source);
        Assert.Equal([1000L, 1001L, 1002L], noise.Seeds);
        var first = noise.Next();
        var second = noise.Next();
        Assert.Equal(3 * ImageSize, first.Length);
        for (int i = 0; i < 3; i++)
        {
            float[] want1, want2;
            if (source == RngSource.Cpu)
            {
                var g = new TorchCpuGenerator(1000 + i);
                want1 = g.Randn(ImageSize);
                want2 = g.Randn(ImageSize);
            }
            else
            {
                want1 = TorchCudaRandom.Randn(1000 + i, Latent, draw: 1);
                want2 = TorchCudaRandom.Randn(1000 + i, Latent, draw: 2);
            }
            Assert.Equal(want1, first.AsSpan(i * ImageSize, ImageSize).ToArray());
            Assert.Equal(want2, second.AsSpan(i * ImageSize, ImageSize).ToArray());
        }
    }

    [Fact]
    public void BatchImageNoiseDoesNotDependOnBatchSize()
    {
        var single = new SeededNoiseSource(1001, 1, Latent, RngSource.Gpu).Next();
        var batch = new SeededNoiseSource(1000, 2, Latent, RngSource.Gpu).Next();
        Assert.Equal(single, batch.AsSpan(ImageSize).ToArray());
    }

    [Fact]
    public void EtaNoiseSeedDeltaReseedsAfterTheInitialNoise()
    {
        var noise = new SeededNoiseSource(50, 1, Latent, RngSource.Cpu, etaNoiseSeedDelta: 31337);
        Assert.Equal(TorchCpuRandom.Randn(50, Latent), noise.Next());
        Assert.Equal(TorchCpuRandom.Randn(50 + 31337, Latent), noise.Next());
    }

    [Fact]
    public void RecordedNoiseReplaysInOrderThenRunsOut()
    {
        float[] stacked = [1, 2, 3, 4, 5, 6];
        var rec = RecordedNoiseSource.FromStacked(stacked, 3);
        var steps = new SequentialStepNoise(rec);
        Assert.Equal([1f, 2f], steps.Between(3, 2));
        Assert.Equal([3f, 4f], rec.Next());
        Assert.Equal([5f, 6f], steps.Between(1, 0.5f));
        Assert.Equal(3, rec.Used);
        Assert.Throws<InvalidOperationException>(() => rec.Next());
        Assert.Throws<ArgumentException>(() => RecordedNoiseSource.FromStacked(stacked, 4));
    }

    [Fact]
    public void BadBatchIsAnOptionError() =>
        Assert.Throws<InvalidOptionException>(() => new SeededNoiseSource(1, 0, Latent, RngSource.Cpu));
}
