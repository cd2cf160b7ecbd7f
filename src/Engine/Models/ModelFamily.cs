using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Models;

/// <summary>
/// What one text encoder of a family contributes to the prompt conditioning.
/// </summary>
/// <param name="Name">For messages ("CLIP-L").</param>
/// <param name="Prefix">Key prefix in a single-file checkpoint.</param>
/// <param name="SkipLast">Layers skipped from the end: the crossattn features are the hidden state entering the last
/// <paramref name="SkipLast"/> layers (1: the penultimate layer, SDXL; 0: the last layer, SD1.5).</param>
/// <param name="FinalNorm">Whether the final LayerNorm is applied to those features (SD1.5: yes; SDXL: no).</param>
/// <param name="Pooled">Whether this encoder gives the pooled output (final LN of the last layer at the end token,
/// times the text projection where there is one).</param>
/// <param name="PadAfterEnd">The id that replaces every token after the first end token (OpenCLIP-G in Forge pads
/// with 0); null keeps the chunker's end-token padding.</param>
public sealed record TextEncoderSpec(string Name, string Prefix, AttentionHeads Heads, int SkipLast, bool FinalNorm, bool Pooled, int? PadAfterEnd);

/// <summary>
/// A Stable Diffusion model family as data: where its networks are in a single-file checkpoint, how its attention
/// splits into heads, which text encoders make the conditioning and how, the VAE latent scale, the noise schedule and
/// the UNet's vector conditioning, the step previews' latent → RGB fit, and the key prefixes that identify it. Code reads these instead of SDXL constants, so a second family (SD1.5: one CLIP-L
/// at its last layer with the final norm, eight heads of any width, no vector conditioning, scale 0.18215) is one
/// more instance and a line in <see cref="Detect"/>.
/// </summary>
public sealed record ModelFamily(
    string Name,
    string UnetPrefix,
    string VaePrefix,
    AttentionHeads UnetHeads,
    IReadOnlyList<TextEncoderSpec> TextEncoders,
    float LatentScale,
    DiscreteSchedule Schedule,
    bool EmptyNegativeIsZero,
    Func<float[], int, int, float[]>? VectorConditioning,
    Pipelines.LatentPreview Preview,
    IReadOnlyList<string> Markers)
{
    /// <summary>
    /// SDXL: 64-wide heads; CLIP-L (Hugging Face layout) ‖ OpenCLIP-G (pooled, padded with 0), both at their
    /// penultimate layer without the final norm; latent scale 0.13025; scaled-linear betas; y = pooled ‖ size
    /// embeddings; Forge conditions an empty negative prompt with zeros.
    /// </summary>
    public static ModelFamily Sdxl { get; } = new(
        "SDXL", Unet.SdxlUnet.CheckpointPrefix, Vae.SdxlVae.CheckpointPrefix, AttentionHeads.OfWidth(64),
        [
            new("CLIP-L", "conditioner.embedders.0.transformer.text_model.", AttentionHeads.OfWidth(64), SkipLast: 1, FinalNorm: false, Pooled: false, PadAfterEnd: null),
            new("OpenCLIP-G", "conditioner.embedders.1.model.", AttentionHeads.OfWidth(64), SkipLast: 1, FinalNorm: false, Pooled: true, PadAfterEnd: 0),
        ],
        LatentScale: 0.13025f, DiscreteSchedule.Sdxl, EmptyNegativeIsZero: true,
        VectorConditioning: (pooled, width, height) => Models.VectorConditioning.Build(pooled, Models.VectorConditioning.SizeConds(width, height)),
        Pipelines.LatentPreview.Sdxl, Markers: ["conditioner.embedders.", "model.diffusion_model.label_emb."]);

    /// <summary>
    /// SD1.5 (ldm layout): eight UNet heads of any width (head width = channels / 8), no vector conditioning; one
    /// CLIP-L (Hugging Face layout under cond_stage_model.transformer) at its last layer with the final norm and
    /// end-token padding; latent scale 0.18215; the same scaled-linear betas as SDXL; Forge encodes an empty negative
    /// prompt like any other (force_zero_negative_prompt is SDXL's).
    /// </summary>
    public static ModelFamily Sd15 { get; } = new(
        "SD1.5", Unet.SdxlUnet.CheckpointPrefix, Vae.SdxlVae.CheckpointPrefix, AttentionHeads.Fixed(8),
        [
            new("CLIP-L", "cond_stage_model.transformer.text_model.", AttentionHeads.OfWidth(64), SkipLast: 0, FinalNorm: true, Pooled: false, PadAfterEnd: null),
        ],
        LatentScale: 0.18215f, DiscreteSchedule.Sdxl, EmptyNegativeIsZero: false, VectorConditioning: null,
        Pipelines.LatentPreview.Sd15, Markers: ["cond_stage_model.transformer."]);

    /// <summary>The families this build knows, tried in order by <see cref="Detect"/>.</summary>
    public static IReadOnlyList<ModelFamily> Known { get; } = [Sdxl, Sd15];

    /// <summary>Whether a checkpoint (or a part of one) belongs to this family: it holds a key under one of its markers.</summary>
    public bool Matches(SafeTensorsFile f) => f.Names.Any(n => Markers.Any(m => n.StartsWith(m, StringComparison.Ordinal)));

    /// <summary>The family of a checkpoint, from the keys it holds.</summary>
    public static ModelFamily Detect(SafeTensorsFile f) =>
        Known.FirstOrDefault(k => k.Matches(f))
        ?? throw new ModelFormatException(f.Path, null, $"is not a checkpoint of a known model family ({string.Join(", ", Known.Select(k => k.Name))}): no key under any family's markers");
}
