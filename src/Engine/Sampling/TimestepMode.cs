namespace LayerDiffusion.Native.Sampling;

/// <summary>How a sigma becomes the UNet's timestep.</summary>
public enum TimestepMode
{
    /// <summary>Nearest training step (argmin |ln σ − ln σ_i|), as Forge and ComfyUI do. The default.</summary>
    Quantized,
    /// <summary>A1111's CompVisDenoiser without quantization: log-sigma interpolated, fractional t.</summary>
    Fractional,
}
