namespace LayerDiffusion.Native.Random;

/// <summary>
/// A GPU that computes <see cref="TorchCudaGenerator"/>'s draws itself (the CUDA backend's Philox kernel), with
/// its own SM count, so that large draws are laid out as torch lays them out on that card.
/// </summary>
public interface IPhiloxNormalDevice
{
    int MultiprocessorCount { get; }
    int MaxThreadsPerMultiprocessor { get; }

    /// <summary>
    /// n normals as <c>torch.randn</c> draws them from Philox block <paramref name="baseBlock"/> (offset / 4) with
    /// torch's thread count <paramref name="threads"/> (see <see cref="TorchCudaGenerator.LaunchFor"/>).
    /// </summary>
    float[] PhiloxNormal(ulong seed, ulong baseBlock, long threads, int n);
}
