namespace LayerDiffusion.Native.Pipelines;

/// <summary>Every user-facing setting of a generation, validated in one place so each bad value is one clear error.</summary>
public sealed record GenerationSettings
{
    public string Prompt { get; init; } = "";
    public string Negative { get; init; } = "";
    public int Steps { get; init; } = 20;
    public float Cfg { get; init; } = 5f;
    /// <summary>A sampler by our name or Forge's (case-insensitive; see <see cref="Sampling.SamplerChoice"/>).</summary>
    public string Sampler { get; init; } = "euler_a";
    /// <summary>A schedule by our name or Forge's, or null / "automatic" for the sampler's Forge default.</summary>
    public string? Schedule { get; init; }

    /// <summary>The largest seed any image may have (torch and numpy take 64-bit seeds; Forge's are Python ints).</summary>
    public const long MaxSeed = long.MaxValue;

    /// <summary>
    /// The first image's seed, 0 … <see cref="MaxSeed"/>. Image i of the run (over Batch count × Batch size) gets
    /// Seed + i, as Forge's all_seeds, without wrapping; every one of them must stay within the range.
    /// </summary>
    public long Seed { get; init; } = 12345;

    /// <summary>"cpu" (PyTorch CPU randn) or "gpu" (PyTorch CUDA randn, Forge's default); any case ("CPU" as Forge writes it).</summary>
    public string Rng { get => _rng; init => _rng = value.Trim().ToLowerInvariant(); }
    private readonly string _rng = "gpu";
    public int Width { get; init; } = 1024;
    public int Height { get; init; } = 1024;
    /// <summary>Images per sampling run (Forge's "Batch size").</summary>
    public int Batch { get; init; } = 1;
    /// <summary>Sampling runs one after another (Forge's "Batch count"); run k has the seeds Seed + k·Batch + j.</summary>
    public int BatchCount { get; init; } = 1;
    public const int MaxBatchCount = 100;
    public LayerMethod Method { get; init; } = LayerMethod.Attn;
    /// <summary>Patch strength ("Weight" in the extension), in [-1, 3].</summary>
    public float Weight { get; init; } = 1f;
    /// <summary>
    /// SD1.5 attention sharing's additional prompts (the extension's fg/bg/blend additional prompts): a frame whose
    /// role has a non-empty one is conditioned on its positive rows by "additional, prompt".
    /// </summary>
    public string FgPrompt { get; init; } = "";
    public string BgPrompt { get; init; } = "";
    public string BlendPrompt { get; init; } = "";

    /// <summary>The additional prompt of a frame role.</summary>
    public string AdditionalPrompt(FrameRole role) => role switch
    {
        FrameRole.Foreground => FgPrompt,
        FrameRole.Background => BgPrompt,
        _ => BlendPrompt,
    };

    /// <summary>"Stop At" in [0, 1]; 1 never switches back to the unpatched UNet.</summary>
    public float StopAt { get; init; } = 1f;
    /// <summary>
    /// img2img denoising strength in (0, 1] (A1111's default is 0.75). A double, as A1111 keeps it: the start step
    /// int(min(denoise, 0.999) · steps) must see 0.7 as 0.7, not as float 0.69999999.
    /// </summary>
    public double Denoise { get; init; } = 1.0;

    /// <summary>VAE decode tile in latent pixels; 0 decodes whole unless device memory is short (then 64).</summary>
    public int VaeTile { get; init; }

    /// <summary>Transparent-decoder passes per network call (1–8); 0 picks by free device memory (1 on the CPU).</summary>
    public int DecoderBatch { get; init; }

    public void Validate()
    {
        if (DecoderBatch < 0 || DecoderBatch > 8) throw new InvalidSettingException("DecoderBatch", $"{DecoderBatch} is out of range [0, 8] (0: automatic)");
        if (VaeTile < 0 || (VaeTile > 0 && VaeTile < 8)) throw new InvalidSettingException("VaeTile", $"{VaeTile} must be 0 (automatic) or at least 8 latent pixels");
        if (Steps < 1 || Steps > 1000) throw new InvalidSettingException("Steps", $"{Steps} is out of range [1, 1000]");
        if (!float.IsFinite(Cfg) || Cfg < 0 || Cfg > 100) throw new InvalidSettingException("Cfg", $"{Cfg} is out of range [0, 100]");
        CheckSize("Width", Width);
        CheckSize("Height", Height);
        if (Batch < 1 || Batch > 64) throw new InvalidSettingException("Batch", $"{Batch} is out of range [1, 64]");
        int frames = LayerMethods.FrameCount(Method);
        if (Batch % frames != 0)
            throw new InvalidSettingException("Batch", $"{Batch} images are not whole groups of method {LayerMethods.Name(Method)}'s {frames} frames");
        if (!(Weight >= -1 && Weight <= 3)) throw new InvalidSettingException("Weight", $"{Weight} is out of range [-1, 3]");
        if (!(StopAt >= 0 && StopAt <= 1)) throw new InvalidSettingException("StopAt", $"{StopAt} is out of range [0, 1]");
        if (!(Denoise > 0 && Denoise <= 1)) throw new InvalidSettingException("Denoise", $"{Denoise} is out of range (0, 1]");
        if (BatchCount < 1 || BatchCount > MaxBatchCount) throw new InvalidSettingException("BatchCount", $"{BatchCount} is out of range [1, {MaxBatchCount}]");
        if (Seed < 0) throw new InvalidSettingException("Seed", $"{Seed} is out of range [0, {MaxSeed}] (-1 picks a random seed)");
        long images = (long)Batch * BatchCount;
        if (Seed > MaxSeed - (images - 1))
            throw new InvalidSettingException("Seed", $"{Seed} leaves no room for {images} images: image i gets seed + i, and the last must stay at most {MaxSeed}");
        if (Rng is not ("cpu" or "gpu")) throw new InvalidSettingException("Rng", $"'{Rng}' is not one of cpu, gpu (any case)");
    }

    /// <summary>The smallest and largest --width/--height.</summary>
    public const int MinSide = 64, MaxSide = 8192;

    private static void CheckSize(string option, int v)
    {
        if (v < MinSide || v > MaxSide) throw new InvalidSettingException(option, $"{v} is out of range [{MinSide}, {MaxSide}]");
        if (v % 8 != 0) throw new InvalidSettingException(option, $"{v} is not a multiple of 8 (the VAE works on 8x8 pixel blocks)");
    }
}
