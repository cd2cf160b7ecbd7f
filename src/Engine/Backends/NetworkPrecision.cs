namespace LayerDiffusion.Native.Backends;

/// <summary>
/// Which backend a network runs on (<see cref="IBackend.VaeFamily"/>). The SDXL VAE overflows in fp16 (issue 9: it runs in fp32 or bf16 on the GPU), and
/// the transparent decoder's 8-way median in fp16 missed the fixed fp16 bound (rel_l2 5.2e-3 > 5e-3 on an H200), so
/// with an fp16 backend the VAE-family networks (SDXL VAE, transparent decoder and encoder) run on an fp32 sibling on
/// the same GPU. bf16 keeps bf16 (its range is fp32's); the CPU is fp32 already.
/// </summary>
/// <remarks>
/// The sibling stores fp32 but runs its GEMMs (every convolution and linear layer) on the tensor cores with TF32
/// operands: strict fp32 GEMMs run on the FP32 units at a fraction of the speed. Errors against the golden data,
/// from the emulated GPU (tests/Cuda/emu rounds TF32 operands as the hardware does; the same emulation gave 5.15e-3
/// for the fp16 8-way decode that the H200 measured at 5.16e-3): transparent decoder 8-way rel_l2 2.9e-3, single
/// 1.6e-3, SDXL VAE decode 1.0e-3, transparent encoder 2.7e-3, all under the 5e-3 network bound. LD_VAE_TF32=0
/// makes the sibling strict fp32. `--precision fp32` never uses TF32.
/// </remarks>
public static class NetworkPrecision
{
    public static IBackend ForVae(IBackend main) => main.VaeFamily;
}
