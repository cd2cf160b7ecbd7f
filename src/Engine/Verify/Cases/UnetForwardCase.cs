using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>unet_forward: one UNet call on a CFG batch, ε = UNet(x, t, context, y).</summary>
public sealed class UnetForwardCase : ICaseRunner
{
    public string CaseName => "unet_forward";

    public void Run(CaseContext ctx)
    {
        var b = ctx.Backend;
        var unet = SdxlUnet.Load(b, ctx.Checkpoint);
        using var x = ctx.InputTensor("x", b);
        using var context = ctx.InputTensor("context", b);
        using var y = ctx.InputTensor("y", b);
        using var eps = unet.Forward(x, ctx.InputF32("t"), context, y);
        ctx.Emit("eps", b.ToHost(eps));
    }
}
