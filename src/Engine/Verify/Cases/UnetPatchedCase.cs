using System.Text.Json;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// unet_patched: ε of the UNet after merging a patch file at a strength. settings.outputs maps each output to
/// {patch, strength, concat: [input names]}; layer models take cat([x, c1(, c2)]) along channels.
/// </summary>
public sealed class UnetPatchedCase : ICaseRunner
{
    public string CaseName => "unet_patched";

    public void Run(CaseContext ctx)
    {
        var b = ctx.Backend;
        var baseUnet = SdxlUnet.Load(b, ctx.WeightsHolding(SdxlUnet.CheckpointPrefix + "input_blocks.0.0.weight"));
        using var x = b.FromHost(ctx.InputF32("x"), ctx.InputShape("x"));
        using var context = b.FromHost(ctx.InputF32("context"), ctx.InputShape("context"));
        using var y = b.FromHost(ctx.InputF32("y"), ctx.InputShape("y"));
        var t = ctx.InputF32("t");

        foreach (var output in ctx.Settings.GetProperty("outputs").EnumerateObject())
        {
            if (!ctx.Wants(output.Name)) continue;
            var spec = output.Value;
            var patch = PatchFile.Read(ctx.Weights(spec.GetProperty("patch").GetString()!));
            float strength = spec.GetProperty("strength").GetSingle();
            var unet = new SdxlUnet(baseUnet.Config, PatchMerger.Apply(baseUnet.Weights, patch, strength));

            var conditions = new List<Tensor>();
            foreach (var name in spec.GetProperty("concat").EnumerateArray().Select(e => e.GetString()!))
                conditions.Add(b.FromHost(ctx.InputF32(name), ctx.InputShape(name)));
            using var input = ConcatInput.Build(b, x, conditions);
            foreach (var c in conditions) c.Dispose();

            using var eps = unet.Forward(input, t, context, y);
            ctx.Emit(output.Name, b.ToHost(eps));
        }
    }
}
