namespace LayerDiffusion.Native.LayerDiffusion;

public sealed partial class TransparentDecoder
{
    private const int Passes = 8;

    /// <summary>
    /// How many of the 8 augmentation passes run as one batched network call: 0 (the default) picks automatically,
    /// see <see cref="AutoPassesPerCall"/>. Results do not depend on it; only speed and memory do.
    /// </summary>
    public int PassesPerCall { get; set; }

    /// <summary>
    /// The decode every reference uses: 8 passes over (flip along W or not) × (rot90 k = 0..3), applied to pixel and
    /// latent alike (flip first, then rotate); each output clipped to [0, 1] and transformed back (rotate by -k,
    /// then flip), then the element-wise lower median of the 8 (torch.median: the 4th smallest). Returns
    /// [B, 4, H, W] (alpha, straight RGB) in [0, 1]. Non-square images work: a quarter turn swaps H and W, and both
    /// are padded to the network's multiple once, before the passes (see <see cref="PadForNetwork"/>).
    /// </summary>
    /// <remarks>
    /// Passes whose inputs have the same shape (all 8 for a square image, the 4 even or the 4 odd turns otherwise)
    /// are stacked along the batch axis, <see cref="PassesPerCall"/> at a time: the network treats batch items
    /// independently, so this changes speed, not results (the released code's batched variant is 4.5× faster than
    /// its loop on an H200). The clip is applied once, after the median: clipping is monotone, so the median of the
    /// clipped passes is exactly the clipped median. The inverse transforms and the median are <see cref="IBackend.UnaugmentMedian8"/> (one kernel on the GPU).
    /// </remarks>
    /// <param name="cancel">Checked before each group of passes: a long decode stops within one group.</param>
    public Tensor DecodeAugmented(Tensor pixel, Tensor latent, CancellationToken cancel = default)
    {
        CheckInputs(pixel, latent);
        using var scope = TensorScope.Open();
        var pad = Padding.For(pixel.Dim(2), pixel.Dim(3), Config.SizeMultiple);
        var (p, l) = pad.IsNone ? (pixel, latent) : PadForNetwork(pixel, latent, pad);
        var passes = new Tensor[Passes];
        int group = PassesPerCall > 0 ? Math.Min(PassesPerCall, Passes) : AutoPassesPerCall(_b, p.Dim(0), p.Dim(2), p.Dim(3));
        foreach (var indices in PassGroups(p.Dim(2) == p.Dim(3), group))
        {
            cancel.ThrowIfCancellationRequested();
            RunPasses(p, l, indices, passes);
        }
        var median = _b.UnaugmentMedian8(passes);
        return scope.MoveToOuter(_b.Clamp(pad.IsNone ? median : CropFromNetwork(median, pad), 0f, 1f));
    }

    /// <summary>
    /// The largest batch of passes (8, 4, 2 or 1) whose activations, about 12 full-resolution maps of the first
    /// block's width in fp32 per image, fit in half the free device memory and in <paramref name="budgetBytes"/> when
    /// given (the pipeline passes what the run's peak so far leaves, so batching never raises a generation's peak).
    /// Backends that report no device memory (the CPU) run one pass at a time, which keeps their peak memory lowest
    /// and costs them nothing in speed.
    /// </summary>
    public int AutoPassesPerCall(IBackend b, int batch, int height, int width, long? budgetBytes = null)
    {
        if (Pipelines.Memory.AvailableMemory.DeviceBytes(b) is not { } device) return 1;
        long perPass = 12L * Config.BaseChannels * height * width * sizeof(float) * batch;
        long limit = Math.Min(device.Free / 2, budgetBytes ?? long.MaxValue);
        int group = Passes;
        while (group > 1 && perPass * group > limit) group /= 2;
        return group;
    }

    /// <summary>Pass indices (flip·4 + k) in groups of at most <paramref name="group"/> with equal input shapes.</summary>
    internal static IEnumerable<int[]> PassGroups(bool square, int group)
    {
        group = Math.Max(1, group);
        if (square) return Enumerable.Range(0, Passes).Chunk(group);
        // A quarter turn swaps H and W: even and odd turns never share a batch.
        int[] even = [0, 2, 4, 6], odd = [1, 3, 5, 7];
        return even.Chunk(group).Concat(odd.Chunk(group));
    }

    /// <summary>Runs the passes in <paramref name="indices"/> (same input shape) as one network call.</summary>
    private void RunPasses(Tensor p, Tensor l, int[] indices, Tensor[] passes)
    {
        using var scope = TensorScope.Open();
        var pixels = indices.Select(i => _b.FlipRot(p, i >= 4, i & 3, inverse: false)).ToArray();
        var latents = indices.Select(i => _b.FlipRot(l, i >= 4, i & 3, inverse: false)).ToArray();
        if (indices.Length == 1)
        {
            // The CPU's case, and a GPU's short of memory: no concatenation and slice (full-size copies) around one pass.
            passes[indices[0]] = scope.MoveToOuter(Network(pixels[0], latents[0]));
            return;
        }
        var y = Network(_b.Concat(0, pixels), _b.Concat(0, latents));
        int n = p.Dim(0);
        for (int j = 0; j < indices.Length; j++) passes[indices[j]] = scope.MoveToOuter(_b.Slice(y, 0, j * n, n));
    }
}
