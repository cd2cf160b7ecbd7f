namespace LayerDiffusion.Native.Sampling;

/// <summary>Which torch generator a seed drives (A1111/Forge's "Random number generator source").</summary>
public enum RngSource
{
    /// <summary>torch's CUDA Philox generator, A1111/Forge's default ("GPU"); emulated exactly on the CPU.</summary>
    Gpu,
    /// <summary>torch's CPU MT19937 generator ("CPU"; also what ComfyUI uses).</summary>
    Cpu,
}
