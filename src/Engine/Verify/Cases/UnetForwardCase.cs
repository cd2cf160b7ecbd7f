using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>unet_forward: one UNet call on a CFG batch, ε = UNet(x, t, context, y).</summary>
public sealed class UnetForwardCase : ICaseRunner
{
    public string CaseName => "unet_forward";

    public void Run(CaseContext ctx)
    {
        var b = ctx.Backend;
        var unet = SdxlUnet.Load(b, ctx.WeightsHolding(SdxlUnet.CheckpointPrefix + "input_blocks.0.0.weight"));
        using var x = b.FromHost(ctx.InputF32("x"), ctx.InputShape("x"));
        using var context = b.FromHost(ctx.InputF32("context"), ctx.InputShape("context"));
        using var y = b.FromHost(ctx.InputF32("y"), ctx.InputShape("y"));
        using var eps = unet.Forward(x, ctx.InputF32("t"), context, y);
        ctx.Emit("eps", b.ToHost(eps));
    }
}
