using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Backends;

/// <summary>
/// Which backend a network runs on. The SDXL VAE overflows in fp16 (issue 9: it runs in fp32 or bf16 on the GPU), and
/// the transparent decoder's 8-way median in fp16 missed the fixed fp16 bound (rel_l2 5.2e-3 > 5e-3 on an H200), so
/// with an fp16 backend the VAE-family networks (SDXL VAE, transparent decoder and encoder) run on an fp32 sibling on
/// the same GPU. bf16 keeps bf16 (its range is fp32's); the CPU is fp32 already.
/// </summary>
public static class NetworkPrecision
{
    public static IBackend ForVae(IBackend main) =>
        main is CudaBackend { Precision: Precision.Fp16 } cuda ? cuda.Fp32Sibling() : main;
}
