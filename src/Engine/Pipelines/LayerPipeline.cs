using LayerDiffusion.Native.Backends;
using System.Diagnostics;
using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Models.Vae;
using LayerDiffusion.Native.Sampling;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// LayerDiffusion generation end to end, as the Forge extension runs it:
/// prompts → conditioning → seeded noise → (patched UNet + condition latents, "Stop At") → sampler → VAE decode →
/// (transparent decoder, 8-way median) → bytes. One class for every method; the method decides the patch, the
/// condition latents and whether the output goes through the transparent decoder. With an init image
/// (<see cref="GenerationInputs.Init"/>) it is transparent img2img: the sampler starts from the image's regulated
/// latent at the step <see cref="GenerationSettings.Denoise"/> selects.
/// </summary>
public sealed class LayerPipeline(ModelBundle models)
{
    /// <summary>Called after every sampler step (progress bars, previews).</summary>
    public SamplerCallback? StepCallback { get; set; }
    /// <summary>Called as each phase ends, with its name and milliseconds (progress events; a step clock restarts here).</summary>
    public Action<string, double>? PhaseCallback { get; set; }
    /// <summary>Release the text encoders once both prompts are encoded (saves their memory on the GPU).</summary>
    public bool ReleaseTextEncoders { get; set; }
    /// <summary>
    /// Release both UNets once sampling is done (a single run: the decoders then work beside the VAE-family weights
    /// only, so the run's peak is the sampling phase's). Later runs on the same bundle reload them.
    /// </summary>
    public bool ReleaseUnetsAfterSampling { get; set; }

    /// <summary>The phases of a run in order (the names of <see cref="GenerationResult.PhaseMs"/> and of the NVTX ranges).</summary>
    private static readonly string[] PhaseNames = ["text", "condition", "patch", "sample", "vae_decode", "transparent_decode"];

    public GenerationResult Run(GenerationSettings s, GenerationInputs inputs, CancellationToken cancel = default)
    {
        s.Validate();
        if (inputs.Init is not null) TransparentImg2Img.Validate(s);
        var sampler = SamplerSettings.Parse(s.Sampler, s.Schedule, s.Steps);
        var phases = new Dictionary<string, double>();
        var peaks = new Dictionary<string, long>();
        var diag = models.Backend as IBackendDiagnostics;
        using var trace = Profiling.Nvtx.Phases(inputs.Init is null ? "generate" : "img2img", PhaseNames);
        diag?.ResetPeak();
        var clock = Stopwatch.StartNew();
        void Phase(string name)
        {
            phases[name] = clock.Elapsed.TotalMilliseconds;
            trace.Ended(name);
            if (diag is not null) { peaks[name] = diag.PeakBytes; diag.ResetPeak(); }
            PhaseCallback?.Invoke(name, phases[name]);
            clock.Restart();
        }

        if (LayerMethods.IsSd15(s.Method) != (models.Family == ModelFamily.Sd15))
            throw new InvalidOptionException("--method", $"method {LayerMethods.Name(s.Method)} is for {(LayerMethods.IsSd15(s.Method) ? "SD1.5" : "SDXL")} checkpoints; {models.Paths.Checkpoint} is {models.Family.Name}");
        // Prompt editing and alternation: each prompt is a schedule of texts over the steps, each text encoded once.
        var prompts = ScheduledPrompts.Encode(s, models.Text);
        var framePrompts = FramePrompts.Encode(models.Text, s);
        foreach (var e in framePrompts.Where(e => e is not null).Concat(prompts.Positive).Concat(prompts.Negative))
        {
            NonFiniteGuard.Check(e!.Context, "the text encoders", "encoding the prompts");
            NonFiniteGuard.Check(e.Pooled, "the text encoders", "encoding the prompts");
        }
        var positive = prompts.Positive[0];
        var negative = prompts.Negative[0];
        if (ReleaseTextEncoders) models.ReleaseText();
        var family = models.Family;
        Phase("text");
        cancel.ThrowIfCancellationRequested();

        int channels = models.Vae.LatentChannels, h = s.Height / 8, w = s.Width / 8;
        var concat = ConditionLatents(s, inputs, h, w);
        var init = InitLatent(s, inputs);
        var controlRgb = ControlImage(s, inputs);
        Phase("condition");

        // "Stop At" 1 never switches back, so the original's copies of the patched weights need not stay resident.
        bool switchesBack = s.StopAt < 1f;
        using var sharing = LayerMethods.IsSd15(s.Method) ? AttentionSharing(s, framePrompts, controlRgb) : null;
        var patched = sharing?.Unet ?? models.Patched(s.Method, s.Weight, keepOriginal: switchesBack);
        var original = switchesBack ? models.Unet : null;
        Phase("patch");

        // The GPU seed source runs where the backend computes it (a kernel laid out for the GPU's SM count, as torch
        // does there; on the CPU the host computes an H100's layout).
        var noiseSource = new SeededNoiseSource(s.Seed, s.Batch, [channels, h, w], s.Rng == "cpu" ? RngSource.Cpu : RngSource.Gpu,
            device: models.Backend);
        var noise = noiseSource.Next();
        var schedule = family.Schedule;
        var sigmas = Sampler.Sigmas(sampler, schedule);
        var stepNoise = StepNoise.For(sampler, noiseSource, sigmas);
        float[] latent;
        IReadOnlyList<bool> patchedCalls;
        var (conditionings, select) = prompts.Conditionings(models.Backend, family, s);
        using (var denoiser = new GuidedDenoiser(patched, conditionings, select,
            s.Cfg, [channels, h, w], concat, original is null ? null : new StopAt(original, s.StopAt, schedule), sharing is null ? null : sharing.OnRows))
        {
            latent = init is null
                ? Sampler.Run(sampler, schedule, denoiser.Model, noise, stepNoise, NonFiniteGuard.Steps(StepCallback), cancel)
                : Sampler.Run(sampler, schedule, denoiser.Model, noise, Repeat(init, s.Batch), TransparentImg2Img.StartIndex(s.Steps, s.Denoise),
                    stepNoise, NonFiniteGuard.Steps(StepCallback), cancel);
            patchedCalls = denoiser.PatchedCalls.ToArray();
        }
        NonFiniteGuard.Check(latent, "the sampler", "in the final latent");
        if (ReleaseUnetsAfterSampling) models.ReleaseUnets();
        Phase("sample");

        // What the run's peak so far leaves free for the transparent decoder's batched passes (null: no device memory).
        long? DecoderBudget() => diag is null || peaks.Count == 0 ? null : Math.Max(0, peaks.Values.Max() - diag.PeakBytes);
        var images = Decode(s, latent, noiseSource.Seeds, channels, h, w, cancel, Phase, DecoderBudget);
        return new GenerationResult
        {
            Width = s.Width, Height = s.Height, Noise = noise, Positive = positive, Negative = negative, FramePrompts = framePrompts,
            Latent = latent, Family = family, Images = images, PatchedCalls = patchedCalls, PhaseMs = phases, PhasePeakBytes = peaks,
            WeightBytes = diag?.WeightBytes ?? 0,
        };
    }

    /// <summary>
    /// The layer methods' condition latents, each [1, 4, h, w] on the UNet's backend: each RGBA image composited on 50%
    /// grey, fitted to the generation size, VAE-encoded (posterior mean) and scaled by the family's latent scale, in the method's
    /// channel order. They cross from the VAE's backend to the UNet's on the device (<see cref="IBackend.Import"/>).
    /// </summary>
    private Tensor[] ConditionLatents(GenerationSettings s, GenerationInputs inputs, int h, int w)
    {
        var vb = models.VaeBackend;
        return ConditionImages(s.Method, inputs).Select(img =>
        {
            using var scope = TensorScope.Open();
            var fitted = ConditionImage.Prepare(img.Pixels, img.Width, img.Height, s.Width, s.Height, inputs.ResizeMode);
            var (mean, _) = models.Vae.EncodeMoments(vb.FromHost(ConditionImage.ToVaeInput(fitted), 1, 3, s.Height, s.Width));
            if (!Shape.Equal(mean.Shape, [1, 4, h, w])) throw new LdException($"condition latent is {Shape.Format(mean.Shape)}, expected [1, 4, {h}, {w}]");
            NonFiniteGuard.Check(vb.ToHost(mean), "the VAE encoder", "encoding a condition image");
            return TensorScope.Detach(models.Backend.Import(vb.Affine(mean, models.Family.LatentScale, 0f)));
        }).ToArray();
    }

    /// <summary>
    /// SD1.5 fg2bg / bg2fg's control image: the foreground / background composited on grey in fp32 and fitted to the
    /// generation size, [1, 3, H, W] in about [0, 1]; null for the other methods.
    /// </summary>
    public static float[]? ControlImage(GenerationSettings s, GenerationInputs inputs)
    {
        var (img, option) = s.Method switch
        {
            LayerMethod.Sd15Fg2Bg => (inputs.Foreground, "--fg"),
            LayerMethod.Sd15Bg2Fg => (inputs.Background, "--bg"),
            _ => (null, null),
        };
        if (option is null) return null;
        if (img is null) throw new InvalidOptionException(option, $"method {LayerMethods.Name(s.Method)} needs this image");
        return LayerDiffusion.Sd15.AttentionSharingModel.ControlRgb(img.Pixels, img.Width, img.Height, s.Width, s.Height, inputs.ResizeMode);
    }

    /// <summary>The run's attention sharing: the method's file over the unpatched UNet, its frame prompts and control signals.</summary>
    private LayerDiffusion.Sd15.AttentionSharingRun AttentionSharing(GenerationSettings s, PromptEmbedding?[] framePrompts, float[]? controlRgb)
    {
        var b = models.Backend;
        var model = models.AttentionSharing(s.Method);
        using var scope = TensorScope.Open();
        var signals = controlRgb is null ? [] : model.Signals(b, b.FromHost(controlRgb, 1, 3, s.Height, s.Width));
        var overwrites = framePrompts.Select(e => e is null ? null : b.FromHost(e.Context, e.ContextShape)).ToArray();
        return new LayerDiffusion.Sd15.AttentionSharingRun(model, models.Unet, overwrites, signals);
    }

    /// <summary>Transparent img2img's start latent [1, 4, h, w] (sampler scale), or null for text-to-image.</summary>
    private float[]? InitLatent(GenerationSettings s, GenerationInputs inputs)
    {
        if (inputs.Init is null) return null;
        var fitted = TransparentImg2Img.Fit(inputs.Init, s.Width, s.Height, inputs.ResizeMode);
        var latent = TransparentImg2Img.Latent(models.VaeBackend, models.Vae, models.Encoder, fitted, models.Family.LatentScale);
        NonFiniteGuard.Check(latent, "the transparent encoder and VAE encoder", "encoding the init image");
        return latent;
    }

    private static float[] Repeat(float[] one, int times)
    {
        var all = new float[one.Length * times];
        for (int i = 0; i < times; i++) one.CopyTo(all, i * one.Length);
        return all;
    }

    /// <summary>Pixels [3, H, W] of one unscaled latent: whole, or in tiles when asked (--vae-tile) or when device memory is short.</summary>
    private float[] DecodeVae(GenerationSettings s, IBackend b, Tensor z, float[] unscaled, int channels, int h, int w, CancellationToken cancel)
    {
        var vae = models.Vae;
        int tile = s.VaeTile > 0 ? s.VaeTile
            : TiledVaeDecode.ShouldTile(b, vae.DecoderBaseChannels, 8 * h, 8 * w) ? DefaultVaeTile : 0;
        if (tile > 0 && (tile < h || tile < w))
            return TiledVaeDecode.Decode(vae, b, unscaled, channels, h, w, tile, DefaultVaeTileOverlap, cancel);
        using var scope = TensorScope.Open();
        return b.ToHost(vae.Decode(z));
    }

    /// <summary>Automatic tiling: 512-pixel tiles with 64 pixels of overlap.</summary>
    private const int DefaultVaeTile = 64, DefaultVaeTileOverlap = 8;

    /// <summary>
    /// The method's condition images in channel order (none for attn and conv); a missing one is an error naming
    /// its input. Callers can check this before loading any model.
    /// </summary>
    public static RgbaImage[] ConditionImages(LayerMethod method, GenerationInputs inputs)
    {
        RgbaImage Need(RgbaImage? img, string input) =>
            img ?? throw new InvalidSettingException(input, $"method {LayerMethods.Name(method)} needs this image");
        return method switch
        {
            LayerMethod.Fg2Ble => [Need(inputs.Foreground, "Foreground")],
            LayerMethod.Bg2Ble => [Need(inputs.Background, "Background")],
            LayerMethod.FgBle2Bg => [Need(inputs.Foreground, "Foreground"), Need(inputs.Blend, "Blend")],
            LayerMethod.BgBle2Fg => [Need(inputs.Background, "Background"), Need(inputs.Blend, "Blend")],
            _ => [],
        };
    }

    private List<GeneratedImage> Decode(GenerationSettings s, float[] latent, IReadOnlyList<long> seeds, int channels, int h, int w,
        CancellationToken cancel, Action<string> phase, Func<long?> decoderBudget)
    {
        var b = models.VaeBackend;
        int per = channels * h * w;
        // Each image's unscaled latent is uploaded once, for the VAE and the transparent decoder.
        var decoded = new List<(byte[] Rgb, Tensor Latent)>();
        try
        {
            for (int i = 0; i < s.Batch; i++)
            {
                cancel.ThrowIfCancellationRequested();
                var unscaled = new float[per];
                for (int j = 0; j < per; j++) unscaled[j] = latent[i * per + j] / models.Family.LatentScale;
                var z = TensorScope.Detach(b.FromHost(unscaled, 1, channels, h, w));
                try
                {
                    var pixels = DecodeVae(s, b, z, unscaled, channels, h, w, cancel);
                    NonFiniteGuard.Check(pixels, "the VAE decoder", $"decoding image {i + 1} of {s.Batch}");
                    decoded.Add((ImageBytes.VaePixelsToRgb(pixels, s.Height, s.Width), z));
                }
                catch
                {
                    z.Dispose(); // not in `decoded` yet, so the finally below would miss it
                    throw;
                }
            }
            phase("vae_decode");
            var images = new List<GeneratedImage>();
            for (int i = 0; i < s.Batch; i++)
            {
                var (rgb, z) = decoded[i];
                if (!LayerMethods.TransparentImage(s.Method, i))
                {
                    images.Add(new GeneratedImage(seeds[i], rgb, null, null));
                    continue;
                }
                cancel.ThrowIfCancellationRequested();
                var decoder = models.Decoder;
                // Automatic: as many passes per call as fit without raising the run's peak device memory.
                decoder.PassesPerCall = s.DecoderBatch > 0 ? s.DecoderBatch : decoder.AutoPassesPerCall(b, 1, s.Height, s.Width, decoderBudget());
                var (rgba, preview) = TransparentOutput.Decode(b, decoder, rgb, z, s.Height, s.Width, cancel);
                images.Add(new GeneratedImage(seeds[i], rgb, rgba, preview));
            }
            phase("transparent_decode");
            return images;
        }
        finally
        {
            foreach (var (_, z) in decoded) z.Dispose();
        }
    }
}
