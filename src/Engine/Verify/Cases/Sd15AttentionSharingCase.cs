using System.Text.Json;
using LayerDiffusion.Native.LayerDiffusion.Sd15;
using LayerDiffusion.Native.Models.Unet;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>
/// sd15_attention_sharing: per method (settings.methods), one CFG UNet call with its attention-sharing file: rows
/// cat([x, x]) (the F negative rows with cond_mark 1 and context_negative, then the F positive rows with
/// context_positive and the per-frame overwrites), every row at t; with control, the control image's fp32
/// composite and the encoder's signals are emitted too.
/// </summary>
public sealed class Sd15AttentionSharingCase : ICaseRunner
{
    public string CaseName => "sd15_attention_sharing";

    public void Run(CaseContext ctx)
    {
        var b = ctx.Backend;
        var unet = SdxlUnet.Load(b, ctx.Checkpoint);
        float t = ctx.InputF32("t")[0];
        foreach (var method in ctx.Settings.GetProperty("methods").EnumerateObject())
        {
            var m = method.Value;
            using var model = AttentionSharingModel.Load(b, ctx.Weights(m.GetProperty("patch").GetString()!), unet);
            int frames = m.GetProperty("frames").GetInt32();
            if (frames != model.Frames) throw new InvalidOperationException($"method {method.Name}: settings say {frames} frames, the file has {model.Frames}");
            using var scope = TensorScope.Open();
            var signals = new Dictionary<int, Tensor>();
            if (m.GetProperty("control") is { ValueKind: JsonValueKind.Object } control)
            {
                string image = control.GetProperty("image").GetString()!;
                var shape = ctx.InputShape(image);
                var rgb = AttentionSharingModel.ControlRgb(ctx.InputU8(image), shape[1], shape[0], shape[1], shape[0], Imaging.ResizeMode.CropAndResize);
                if (control.TryGetProperty("rgb01", out var rgbName) && ctx.Wants(rgbName.GetString()!)) ctx.Emit(rgbName.GetString()!, rgb);
                signals = model.Signals(b, b.FromHost(rgb, 1, 3, shape[0], shape[1]));
                foreach (var name in control.GetProperty("signals").EnumerateArray().Select(n => n.GetString()!))
                {
                    var size = name[(name.LastIndexOf('_') + 1)..].Split('x');
                    int pixels = int.Parse(size[0], System.Globalization.CultureInfo.InvariantCulture) * int.Parse(size[1], System.Globalization.CultureInfo.InvariantCulture);
                    if (signals.TryGetValue(pixels, out var s)) ctx.Emit(name, b.ToHost(s));
                }
            }
            try
            {
                var overwrites = m.GetProperty("cond_overwrite").EnumerateArray()
                    .Select(o => o.ValueKind == JsonValueKind.String ? ctx.InputTensor(o.GetString()!, b) : null).ToArray();
                var call = new FrameCall(frames, [.. Enumerable.Repeat(true, frames), .. Enumerable.Repeat(false, frames)], overwrites, signals);
                var hooked = model.Attach(unet, () => call);
                var x = ctx.InputTensor(method.Name + "_x", b);
                var ctxNeg = ctx.InputTensor("context_negative", b);
                var ctxPos = ctx.InputTensor("context_positive", b);
                var context = b.Concat(0, [.. Enumerable.Repeat(ctxNeg, frames), .. Enumerable.Repeat(ctxPos, frames)]);
                var eps = hooked.Forward(b.Concat(0, x, x), Enumerable.Repeat(t, 2 * frames).ToArray(), context, null);
                ctx.Emit(method.Name + "_eps", b.ToHost(eps));
            }
            finally
            {
                foreach (var s in signals.Values) s.Dispose();
            }
        }
    }
}
