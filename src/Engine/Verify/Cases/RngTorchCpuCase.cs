using LayerDiffusion.Native.Random;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>rng_torch_cpu: torch.randn on the CPU generator for each listed seed and shape.</summary>
public sealed class RngTorchCpuCase : ICaseRunner
{
    public string CaseName => "rng_torch_cpu";

    public void Run(CaseContext ctx)
    {
        foreach (var d in RngDraw.Read(ctx.Settings))
        {
            var gen = new TorchCpuGenerator(d.Seed);
            int n = RandomShape.Count(d.Shape);
            float[] value = gen.Randn(n);
            for (int i = 1; i < d.Draw; i++) value = gen.Randn(n);
            ctx.Emit(d.Tensor, value);
        }
    }
}
