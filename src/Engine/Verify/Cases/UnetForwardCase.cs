using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// unet_forward (SDXL) and sd15_unet_forward: one UNet call on a CFG batch, ε = UNet(x, t, context[, y]); the
/// vector conditioning y is read only where the case declares it (SD1.5's UNet has none).
/// </summary>
public sealed class UnetForwardCase(string caseName = "unet_forward") : ICaseRunner
{
    public string CaseName => caseName;

    public void Run(CaseContext ctx)
    {
        var b = ctx.Backend;
        var unet = SdxlUnet.Load(b, ctx.Checkpoint);
        using var x = ctx.InputTensor("x", b);
        using var context = ctx.InputTensor("context", b);
        using var y = ctx.Case.Inputs.Contains("y") ? ctx.InputTensor("y", b) : null;
        using var eps = unet.Forward(x, ctx.InputF32("t"), context, y);
        ctx.Emit("eps", b.ToHost(eps));
    }
}
