using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.LayerDiffusion;
using LayerDiffusion.Native.Models.Vae;
using LayerDiffusion.Native.Sampling;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// Where transparent img2img starts (research/layerdiffusion.md §5.3; sd-forge-layerdiffuse
/// before_process_init_images): the RGBA init image fitted to the generation size, its latent
/// z = mean + std · offset (the VAE posterior of the image flattened over grey 127, and the transparent encoder's
/// offset of [alpha, pad_rgb]) times the family's latent scale (SDXL: 0.13025, SD1.5: 0.18215), and the step the
/// sampler starts from. SD1.5 runs the same encoder architecture (layer_sd15_vae_transparent_encoder) with its own weights.
/// </summary>
public static class TransparentImg2Img
{
    /// <summary>
    /// What img2img needs of the settings beyond <see cref="GenerationSettings.Validate"/>: a one-image transparent
    /// method (the init image's alpha is what the attn/conv models and SD1.5's one-frame attention injection understand)
    /// and a denoise that leaves the sampler a step (UniPC runs t_enc steps, the k-diffusion samplers t_enc + 1).
    /// Callers can check this before loading models. The extension also patches the encoder for SD1.5's joint and
    /// bg2fg methods, where every frame of a group would start from the same init image; those are not offered.
    /// </summary>
    public static void Validate(GenerationSettings s)
    {
        if (s.Method is not (LayerMethod.Attn or LayerMethod.Conv or LayerMethod.Sd15Attn))
            throw new InvalidSettingException("Method", $"img2img runs the transparent models (attn, conv or sd15-attn), not {LayerMethods.Name(s.Method)}");
        Sampler.ValidateImg2Img(SamplerSettings.Parse(s.Sampler, s.Schedule, s.Steps), StartIndex(s.Steps, s.Denoise));
    }

    /// <summary>
    /// A1111/Forge setup_img2img_steps with "img2img_fix_steps" off (the default): t_enc = int(min(denoise, 0.999) ·
    /// steps); sample_img2img then runs sigmas[steps − t_enc − 1 ..] of the full steps-step schedule, t_enc + 1
    /// model steps. Denoise 1 therefore starts at σ_max but from init + noise·σ_max, not from pure noise.
    /// </summary>
    public static int StartIndex(int steps, double denoise)
    {
        if (steps < 1) throw new InvalidSettingException("Steps", $"must be at least 1 (got {steps})");
        if (!(denoise > 0 && denoise <= 1)) throw new InvalidSettingException("Denoise", $"{denoise} is out of range (0, 1]");
        int tEnc = (int)(Math.Min(denoise, 0.999) * steps);
        return steps - tEnc - 1;
    }

    /// <summary>
    /// The generation size an init image gives when no size is asked for: each side rounded down to a multiple of 8,
    /// as Forge's img2img "Resize by" at scale 1 computes it (modules/img2img.py: width -= width % 8).
    /// </summary>
    public static (int Width, int Height) SizeFromInit(int width, int height) => (width - width % 8, height - height % 8);

    /// <summary>
    /// The init image at the generation size. Same size: unchanged (the exact Forge path). Otherwise resized with the
    /// resize mode the layer workflows use (ConditionImage.Fit: OpenCV INTER_AREA / LANCZOS4, crop or median fill)
    /// on premultiplied RGBA, as PIL resizes RGBA; A1111 itself resizes with PIL's Lanczos, so resized inputs are
    /// close to Forge's, not byte-identical.
    /// </summary>
    public static RgbaImage Fit(RgbaImage init, int width, int height, ResizeMode mode)
    {
        if (init.Width == width && init.Height == height) return init;
        var premultiplied = new FloatImage(init.Width, init.Height, 4);
        var src = init.Pixels;
        for (int i = 0; i < init.Width * init.Height; i++)
        {
            float a = src[i * 4 + 3] / 255f;
            for (int c = 0; c < 3; c++) premultiplied.Data[i * 4 + c] = src[i * 4 + c] / 255f * a;
            premultiplied.Data[i * 4 + 3] = a;
        }
        var fitted = ConditionImage.Fit(premultiplied, width, height, mode).Data;
        var rgba = new byte[width * height * 4];
        for (int i = 0; i < width * height; i++)
        {
            float a = Math.Clamp(fitted[i * 4 + 3], 0f, 1f);
            for (int c = 0; c < 3; c++) rgba[i * 4 + c] = ToByte(a > 0 ? fitted[i * 4 + c] / a : 0f);
            rgba[i * 4 + 3] = ToByte(a);
        }
        return new RgbaImage(width, height, rgba);
    }

    private static byte ToByte(float v) => (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f);

    /// <summary>
    /// The sampler-space start latent of one RGBA image, [1, C, H/8, W/8] flattened: (mean + std · offset) · latent scale,
    /// computed exactly as the transparent_encoder golden case checks it.
    /// </summary>
    public static float[] Latent(IBackend b, SdxlVae vae, TransparentEncoder encoder, RgbaImage rgba, float latentScale)
    {
        int w = rgba.Width, h = rgba.Height;
        if (encoder.Downscale != 8 || encoder.LatentChannels != vae.LatentChannels)
            throw new LdException($"the transparent encoder gives {encoder.LatentChannels}-channel offsets per {encoder.Downscale} pixels; " +
                $"the VAE's latent has {vae.LatentChannels} channels per 8 pixels (wrong encoder file?)");
        float[] mean, std, offset;
        var flattened = AlphaFlatten.ToSignedPlanar(AlphaFlatten.OverColor(rgba.Pixels, w, h), w, h);
        using (var pixels = b.FromHost(flattened, 1, 3, h, w))
        {
            var (m, logVar) = vae.EncodeMoments(pixels);
            using (m)
            using (logVar)
            {
                mean = b.ToHost(m);
                std = TransparentLatentOffset.Std(b.ToHost(logVar));
            }
        }
        using (var input = b.FromHost(TransparentEncoder.BuildInput(rgba.Pixels, w, h), 1, 4, h, w))
        using (var off = encoder.Forward(input))
            offset = b.ToHost(off);
        var z = TransparentLatentOffset.Regulate(mean, std, offset);
        for (int i = 0; i < z.Length; i++) z[i] *= latentScale;
        return z;
    }
}
