using LayerDiffusion.Native.LayerDiffusion;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// Merging a LayerDiffusion layer model into the loaded UNet at weight 1, as a generation does once per patch file:
/// the attention LoRA (up · down per projection) or the conv offsets (W + ΔW). The merged tensors are freed after
/// each run; the original UNet stays. Timed runs are capped at 3 (seconds each at the released sizes).
/// </summary>
public static class PatchBench
{
    private const int MaxRuns = 3;

    public static void Run(BenchContext ctx, string name, string? path)
    {
        if (path is null)
        {
            ctx.Skipped.Add((name, $"no {(name == "patch_attn" ? "attention LoRA (--layer-model)" : "conv offsets (--conv-layer-model)")} file"));
            return;
        }
        var unet = ctx.Unet;
        var patch = PatchFile.Read(ctx.Open(path));
        long parameters = patch.Entries.Sum(e => e.Slots.Where(s => s is not null).Sum(s => patch.File.Info(s!).ElementCount));
        ctx.Runner.Measure(name, new BenchParams { Tensors = patch.Entries.Count, Parameters = parameters }, ctx.Settings.DType, () =>
        {
            var merged = PatchMerger.Apply(unet.Weights, PatchFile.Read(patch.File), 1f);
            ctx.Sync();
            BenchContext.FreeReplacements(merged, unet.Weights);
        }, maxRuns: MaxRuns);
    }
}
