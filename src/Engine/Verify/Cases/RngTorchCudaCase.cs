using LayerDiffusion.Native.Random;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// rng_torch_cuda: torch.randn on a CUDA generator for each listed seed, shape and draw number, emulated on the CPU
/// with the default 132-SM launch geometry the reference GPU had.
/// </summary>
public sealed class RngTorchCudaCase : ICaseRunner
{
    public string CaseName => "rng_torch_cuda";

    public void Run(CaseContext ctx)
    {
        foreach (var d in RngDraw.Read(ctx.Settings))
            ctx.Emit(d.Tensor, TorchCudaRandom.Randn(d.Seed, d.Shape, d.Draw));
    }
}
