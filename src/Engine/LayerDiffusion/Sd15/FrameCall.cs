using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.LayerDiffusion.Sd15;

/// <summary>
/// What the attention-sharing units need to know about one UNet call beside its inputs: the batch rows are groups of
/// <see cref="Frames"/> consecutive frames; <see cref="Uncond"/> says per row whether it belongs to the negative half
/// (Forge's cond_mark = 1); <see cref="Overwrites"/> holds per frame the text context that replaces the row's context
/// in the cross-attentions of the positive rows (null: no overwrite for that frame); <see cref="Signals"/> are the
/// control encoder's outputs by pixel count (empty without control).
/// </summary>
public sealed class FrameCall
{
    public FrameCall(int frames, bool[] uncond, IReadOnlyList<Tensor?> overwrites, IReadOnlyDictionary<int, Tensor> signals)
    {
        if (frames <= 0) throw new ArgumentOutOfRangeException(nameof(frames));
        if (uncond.Length % frames != 0) throw new ArgumentException($"{uncond.Length} rows are not groups of {frames} frames");
        if (overwrites.Count > frames) throw new ArgumentException($"{overwrites.Count} overwrites for {frames} frames");
        Frames = frames;
        Uncond = uncond;
        Overwrites = overwrites;
        Signals = signals;
    }

    public int Frames { get; }
    public bool[] Uncond { get; }
    public IReadOnlyList<Tensor?> Overwrites { get; }
    public IReadOnlyDictionary<int, Tensor> Signals { get; }
    public int Rows => Uncond.Length;
    public int Groups => Uncond.Length / Frames;

    public Tensor? OverwriteOf(int frame) => frame < Overwrites.Count ? Overwrites[frame] : null;

    /// <summary>Whether any group's row of the frame is a positive-prompt row (where its overwrite applies).</summary>
    public bool HasPositiveRows(int frame)
    {
        for (int g = 0; g < Groups; g++)
            if (!Uncond[g * Frames + frame]) return true;
        return false;
    }
}
