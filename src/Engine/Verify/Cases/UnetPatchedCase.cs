using System.Text.Json;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Unet;

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
        var baseUnet = SdxlUnet.Load(b, ctx.Checkpoint);
        using var x = ctx.InputTensor("x", b);
        using var context = ctx.InputTensor("context", b);
        using var y = ctx.InputTensor("y", b);
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
                conditions.Add(ctx.InputTensor(name, b));
            using var input = ConcatInput.Build(b, x, conditions);
            foreach (var c in conditions) c.Dispose();

            using var eps = unet.Forward(input, t, context, y);
            ctx.Emit(output.Name, b.ToHost(eps));
        }
    }
}
