using LayerDiffusion.Native.Models.Clip;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>One image of a run: the opaque RGB the VAE decoded, and for transparent methods the RGBA and its preview.</summary>
public sealed record GeneratedImage(long Seed, byte[] Rgb, byte[]? Rgba, byte[]? Preview);

/// <summary>Everything a run produced, intermediate tensors included (the golden checks compare them).</summary>
public sealed record GenerationResult
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    /// <summary>The initial unit noise of the batch, [B, C, H/8, W/8].</summary>
    public required float[] Noise { get; init; }
    public required PromptEmbedding Positive { get; init; }
    public required PromptEmbedding Negative { get; init; }
    /// <summary>SD1.5 attention sharing: per frame, its prompt's conditioning (null where the frame has none).</summary>
    public IReadOnlyList<PromptEmbedding?> FramePrompts { get; init; } = [];
    /// <summary>The sampler's final latent (VAE scale, i.e. before dividing by the family's latent scale), [B, C, H/8, W/8].</summary>
    public required float[] Latent { get; init; }
    /// <summary>The model family that made it (its latent scale turns <see cref="Latent"/> into the VAE's latent).</summary>
    public required Models.ModelFamily Family { get; init; }
    public required IReadOnlyList<GeneratedImage> Images { get; init; }
    /// <summary>Per UNet call: whether the patched model ran (Stop At).</summary>
    public required IReadOnlyList<bool> PatchedCalls { get; init; }
    public required IReadOnlyDictionary<string, double> PhaseMs { get; init; }
    /// <summary>Peak device memory of the backend's allocator during each phase (empty on the CPU).</summary>
    public IReadOnlyDictionary<string, long> PhasePeakBytes { get; init; } = new Dictionary<string, long>();
    /// <summary>Device memory holding weights at the end of the run (0 on the CPU): the base of the VRAM goal.</summary>
    public long WeightBytes { get; init; }
    /// <summary>The run's peak device memory (the largest phase peak); 0 on the CPU.</summary>
    public long PeakBytes => PhasePeakBytes.Count > 0 ? PhasePeakBytes.Values.Max() : 0;
    /// <summary>The VRAM goal's figure, peak ÷ resident weights; null where there is no device memory.</summary>
    public double? PeakOverWeights => WeightBytes > 0 && PeakBytes > 0 ? (double)PeakBytes / WeightBytes : null;
}
