using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.LayerDiffusion;

/// <summary>
/// Merges a frozen-patcher file into a UNet's weights at a strength s, as Forge's merge_lora_to_weight does in
/// fp32 from the stored values:
///   diff: W' = W + s·ΔW;  input conv diff with more input channels: W' = pad(W with zero channels) + s·ΔW;
///   lora: W' = W + s·scale·(up @ down), scale = alpha / rank when the file has an alpha, else 1.
/// The result is a new store; the original is left untouched so the unpatched UNet stays available exactly.
/// </summary>
public static class PatchMerger
{
    /// <param name="releaseOriginals">
    /// Free each replaced tensor of <paramref name="store"/> as soon as its merged version exists, so the merge never
    /// holds both copies of the patched weights at once. <paramref name="store"/> must not be used afterwards
    /// (<see cref="Pipelines.ModelBundle"/> reloads those tensors from the checkpoint when it needs them again).
    /// </param>
    public static WeightStore Apply(WeightStore store, PatchFile patch, float strength, bool releaseOriginals = false)
    {
        patch.Validate(store);
        var replacements = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var e in patch.Entries)
        {
            var original = store.Get(e.Target);
            // Merged weights outlive any scope the caller has open: the store's owner frees them.
            replacements[e.Target] = TensorScope.Detach(Merge(store.Backend, patch, e, original, strength));
            if (releaseOriginals) original.Dispose();
        }
        return store.With(replacements);
    }

    /// <summary>
    /// One entry merged into a weight that lives outside a <see cref="WeightStore"/> (a text encoder's, as it loads):
    /// the entry is checked against the weight's shape first. The caller frees <paramref name="original"/>.
    /// </summary>
    public static Tensor MergeEntry(IBackend b, PatchFile patch, PatchEntry e, Tensor original, float strength)
    {
        patch.ValidateEntry(e, original.Shape);
        return TensorScope.Detach(Merge(b, patch, e, original, strength));
    }

    /// <summary>
    /// One entry: the patch tensors are loaded on the backend (in its storage dtype: the released files are fp16, so
    /// nothing is lost on an fp16 GPU backend) and merged by <see cref="IBackend.MergeDiff"/> /
    /// <see cref="IBackend.MergeLora"/>; only the merged weight stays, the patch tensors are freed entry by entry.
    /// </summary>
    private static Tensor Merge(IBackend b, PatchFile patch, PatchEntry e, Tensor original, float strength)
    {
        using var scope = TensorScope.Open();
        if (e.Kind == PatchKind.Diff)
        {
            using var delta = b.LoadWeight(patch.File, e.Slots[0]!);
            return scope.MoveToOuter(b.MergeDiff(original, delta, strength));
        }
        using var stored = b.LoadWeight(patch.File, e.Slots[0]!);
        using var down = b.LoadWeight(patch.File, e.Slots[1]!);
        var up = b.Reshape(stored, stored.Dim(0), stored.Dim(1)); // [out, rank] or [out, rank, 1, 1]
        float scale = e.Slots[2] is { } alphaKey ? patch.File.ReadFinite(alphaKey)[0] / down.Dim(0) : 1f;
        return scope.MoveToOuter(b.MergeLora(original, up, down, strength * scale));
    }
}
