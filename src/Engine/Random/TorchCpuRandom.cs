namespace LayerDiffusion.Native.Random;

/// <summary><c>torch.randn(shape, generator=torch.Generator().manual_seed(seed))</c> in one call.</summary>
public static class TorchCpuRandom
{
    public static float[] Randn(long seed, int[] shape) => new TorchCpuGenerator(seed).Randn(RandomShape.Count(shape));
}
