namespace LayerDiffusion.Native.Random;

/// <summary>
/// <c>torch.randn(shape, generator=torch.Generator('cuda').manual_seed(seed), device='cuda')</c>, emulated on the
/// CPU; <c>draw</c> = 2 is the second draw of that shape from the same generator, and so on.
/// The SM count matters only for tensors larger than the launch grid (see <see cref="TorchCudaGenerator"/>).
/// </summary>
public static class TorchCudaRandom
{
    public static float[] Randn(long seed, int[] shape, int draw = 1, int smCount = TorchCudaGenerator.DefaultSmCount)
    {
        if (draw < 1) throw new ArgumentOutOfRangeException(nameof(draw), "draws count from 1");
        var gen = new TorchCudaGenerator(seed, smCount);
        int n = RandomShape.Count(shape);
        for (int i = 1; i < draw; i++) gen.Skip(n);
        return gen.Randn(n);
    }
}
