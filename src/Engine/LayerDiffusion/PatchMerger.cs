using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

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
        var backend = store.Backend;
        var replacements = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var e in patch.Entries)
        {
            var original = store.Get(e.Target);
            // Merged weights outlive any scope the caller has open: the store's owner frees them.
            replacements[e.Target] = TensorScope.Detach(backend is CudaBackend cuda ? MergeOnDevice(cuda, patch, e, original, strength) : MergeOnHost(patch, e, original, strength));
            if (releaseOriginals) original.Dispose();
        }
        return store.With(replacements);
    }

    private static Tensor MergeOnHost(PatchFile patch, PatchEntry e, Tensor original, float strength)
    {
        var backend = original.Backend;
        var w = backend.ToHost(original);
        var (merged, shape) = e.Kind == PatchKind.Diff
            ? MergeDiff(patch, e, w, original.Shape, strength)
            : (MergeLora(patch, e, w, strength), original.Shape);
        return backend.FromHost(merged, shape);
    }

    /// <summary>
    /// The same merge on the GPU: the patch tensors go to the device in the backend's storage dtype (the released
    /// files are fp16, so nothing is lost on an fp16 backend), the product and the sum are accumulated in fp32 and
    /// rounded once. Only the merged weight stays resident; the patch tensors are freed entry by entry.
    /// </summary>
    private static Tensor MergeOnDevice(CudaBackend cuda, PatchFile patch, PatchEntry e, Tensor original, float s)
    {
        if (e.Kind == PatchKind.Diff)
        {
            using var delta = cuda.LoadWeight(patch.File, e.Slots[0]!);
            return cuda.MergeDiff(original, delta, s);
        }
        using var stored = cuda.LoadWeight(patch.File, e.Slots[0]!);
        using var up = cuda.Reshape(stored, stored.Dim(0), stored.Dim(1)); // [out, rank] or [out, rank, 1, 1]
        using var down = cuda.LoadWeight(patch.File, e.Slots[1]!);
        return cuda.MergeLora(original, up, down, s * LoraScale(patch, e, down.Dim(0)));
    }

    /// <summary>alpha / rank when the file stores an alpha, else 1.</summary>
    private static float LoraScale(PatchFile patch, PatchEntry e, int rank) =>
        e.Slots[2] is { } alphaKey ? patch.File.ReadFinite(alphaKey)[0] / rank : 1f;

    private static (float[] Merged, int[] Shape) MergeDiff(PatchFile patch, PatchEntry e, float[] w, int[] wShape, float s)
    {
        var delta = patch.File.ReadFinite(e.Slots[0]!);
        var dShape = patch.File.Info(e.Slots[0]!).Shape;
        if (Shape.Equal(dShape, wShape))
        {
            for (int i = 0; i < w.Length; i++) w[i] += s * delta[i];
            return (w, (int[])wShape.Clone());
        }
        // Input-conv growth [O, Cw, k, k] → [O, Cd, k, k]: the old channels keep W, the new ones start at zero.
        int outCh = wShape[0], cw = wShape[1], cd = dShape[1], kk = wShape[2] * wShape[3];
        var grown = new float[delta.Length];
        for (int o = 0; o < outCh; o++)
            w.AsSpan(o * cw * kk, cw * kk).CopyTo(grown.AsSpan(o * cd * kk, cw * kk));
        for (int i = 0; i < grown.Length; i++) grown[i] += s * delta[i];
        return (grown, (int[])dShape.Clone());
    }

    private static float[] MergeLora(PatchFile patch, PatchEntry e, float[] w, float s)
    {
        var up = patch.File.ReadFinite(e.Slots[0]!);
        var down = patch.File.ReadFinite(e.Slots[1]!);
        int rank = patch.File.Info(e.Slots[1]!).Shape[0];
        int outF = up.Length / rank, inF = down.Length / rank;
        float factor = s * LoraScale(patch, e, rank);
        // up·down with the CPU backend's blocked GEMM in fp32 (as Forge merges on the GPU): the released attention
        // LoRA is rank 256 over 560 projections, ~2.4e11 multiply-adds that a scalar loop would take minutes over.
        var downT = new float[inF * rank];
        Gemm.Transpose(down, downT, rank, inF);
        var delta = new float[outF * inF];
        Gemm.NT(up, downT, delta, outF, inF, rank);
        for (int i = 0; i < w.Length; i++) w[i] += factor * delta[i];
        return w;
    }
}
