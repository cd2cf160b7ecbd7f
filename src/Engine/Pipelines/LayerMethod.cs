namespace LayerDiffusion.Native.Pipelines;

/// <summary>What LayerDiffusion does to a generation (the extension's "method").</summary>
public enum LayerMethod
{
    /// <summary>Transparent foreground, attention LoRA (layer_xl_transparent_attn).</summary>
    Attn,
    /// <summary>Transparent foreground, conv offsets (layer_xl_transparent_conv).</summary>
    Conv,
    /// <summary>Foreground in, blended image out (layer_xl_fg2ble).</summary>
    Fg2Ble,
    /// <summary>Background in, blended image out (layer_xl_bg2ble).</summary>
    Bg2Ble,
    /// <summary>Foreground + blend in, background out (layer_xl_fgble2bg).</summary>
    FgBle2Bg,
    /// <summary>Background + blend in, transparent foreground out (layer_xl_bgble2fg).</summary>
    BgBle2Fg,
    /// <summary>SD1.5 transparent foreground, attention sharing with one frame (layer_sd15_transparent_attn).</summary>
    Sd15Attn,
    /// <summary>SD1.5 foreground, background and blend together: three frames (layer_sd15_joint).</summary>
    Sd15Joint,
    /// <summary>SD1.5 foreground in (control), background and blend out: two frames (layer_sd15_fg2bg).</summary>
    Sd15Fg2Bg,
    /// <summary>SD1.5 background in (control), transparent foreground and blend out: two frames (layer_sd15_bg2fg).</summary>
    Sd15Bg2Fg,
}

/// <summary>What one frame of an SD1.5 attention-sharing method shows (its additional prompt is the role's).</summary>
public enum FrameRole { Foreground, Background, Blend }

public static class LayerMethods
{
    private static readonly (LayerMethod Method, string Name, string Display, string Patch)[] Table =
    [
        (LayerMethod.Attn, "attn", "(SDXL) Only Generate Transparent Image (Attention Injection)", "layer_xl_transparent_attn.safetensors"),
        (LayerMethod.Conv, "conv", "(SDXL) Only Generate Transparent Image (Conv Injection)", "layer_xl_transparent_conv.safetensors"),
        (LayerMethod.Fg2Ble, "fg2ble", "(SDXL) From Foreground to Blending", "layer_xl_fg2ble.safetensors"),
        (LayerMethod.Bg2Ble, "bg2ble", "(SDXL) From Background to Blending", "layer_xl_bg2ble.safetensors"),
        (LayerMethod.FgBle2Bg, "fgble2bg", "(SDXL) From Foreground and Blending to Background", "layer_xl_fgble2bg.safetensors"),
        (LayerMethod.BgBle2Fg, "bgble2fg", "(SDXL) From Background and Blending to Foreground", "layer_xl_bgble2fg.safetensors"),
        (LayerMethod.Sd15Attn, "sd15-attn", "(SD1.5) Only Generate Transparent Image (Attention Injection)", "layer_sd15_transparent_attn.safetensors"),
        (LayerMethod.Sd15Joint, "sd15-joint", "(SD1.5) Generate Everything Together (need batch size 3)", "layer_sd15_joint.safetensors"),
        (LayerMethod.Sd15Fg2Bg, "sd15-fg2bg", "(SD1.5) From Foreground to Background (need batch size 2)", "layer_sd15_fg2bg.safetensors"),
        (LayerMethod.Sd15Bg2Fg, "sd15-bg2fg", "(SD1.5) From Background to Foreground (need batch size 2)", "layer_sd15_bg2fg.safetensors"),
    ];

    private static (LayerMethod Method, string Name, string Display, string Patch) Row(LayerMethod m) => Table.First(r => r.Method == m);

    public static string Name(LayerMethod m) => Row(m).Name;

    /// <summary>The extension's infotext name for the method.</summary>
    public static string DisplayName(LayerMethod m) => Row(m).Display;

    /// <summary>The released file that holds this method's UNet patch (SD1.5: its attention-sharing file).</summary>
    public static string PatchFileName(LayerMethod m) => Row(m).Patch;

    public const string DecoderFileName = "vae_transparent_decoder.safetensors";
    public const string EncoderFileName = "vae_transparent_encoder.safetensors";
    public const string Sd15DecoderFileName = "layer_sd15_vae_transparent_decoder.safetensors";
    public const string Sd15EncoderFileName = "layer_sd15_vae_transparent_encoder.safetensors";

    /// <summary>The released transparent decoder for the method's model family.</summary>
    public static string DecoderFile(LayerMethod m) => IsSd15(m) ? Sd15DecoderFileName : DecoderFileName;
    /// <summary>The released transparent encoder for the method's model family.</summary>
    public static string EncoderFile(LayerMethod m) => IsSd15(m) ? Sd15EncoderFileName : EncoderFileName;

    /// <summary>Whether the method is one of SD1.5's attention-sharing methods (it needs an SD1.5 checkpoint).</summary>
    public static bool IsSd15(LayerMethod m) => m is LayerMethod.Sd15Attn or LayerMethod.Sd15Joint or LayerMethod.Sd15Fg2Bg or LayerMethod.Sd15Bg2Fg;

    /// <summary>The frames of one attention-sharing group, in batch order (none for the SDXL methods).</summary>
    public static FrameRole[] FrameRoles(LayerMethod m) => m switch
    {
        LayerMethod.Sd15Attn => [FrameRole.Foreground],
        LayerMethod.Sd15Joint => [FrameRole.Foreground, FrameRole.Background, FrameRole.Blend],
        LayerMethod.Sd15Fg2Bg => [FrameRole.Background, FrameRole.Blend],
        LayerMethod.Sd15Bg2Fg => [FrameRole.Foreground, FrameRole.Blend],
        _ => [],
    };

    /// <summary>Images per group of frames: the batch is a whole number of groups (1 for the SDXL methods).</summary>
    public static int FrameCount(LayerMethod m) => Math.Max(1, FrameRoles(m).Length);

    /// <summary>Whether the frames take per-frame prompts (the extension sets cond_overwrite for these methods only).</summary>
    public static bool HasFramePrompts(LayerMethod m) => m is LayerMethod.Sd15Joint or LayerMethod.Sd15Fg2Bg or LayerMethod.Sd15Bg2Fg;

    /// <summary>Condition latents concatenated after the noisy latent, in channel order.</summary>
    public static int ConcatCount(LayerMethod m) => m switch
    {
        LayerMethod.Fg2Ble or LayerMethod.Bg2Ble => 1,
        LayerMethod.FgBle2Bg or LayerMethod.BgBle2Fg => 2,
        _ => 0,
    };

    /// <summary>Whether any output goes through the transparent decoder (RGBA) rather than all being opaque images.</summary>
    public static bool OutputsTransparent(LayerMethod m) => m is LayerMethod.Attn or LayerMethod.Conv or LayerMethod.BgBle2Fg
        or LayerMethod.Sd15Attn or LayerMethod.Sd15Joint or LayerMethod.Sd15Bg2Fg;

    /// <summary>
    /// Whether image <paramref name="index"/> of a batch is transparent-decoded: every image of the transparent SDXL
    /// methods; for SD1.5 the extension's index % mod_number == 0 (mod 3 for joint, 2 for bg2fg: the foreground
    /// frame of each group), and none for fg2bg.
    /// </summary>
    public static bool TransparentImage(LayerMethod m, int index) => OutputsTransparent(m) && index % FrameCount(m) == 0;

    public static LayerMethod Parse(string option, string s) =>
        Table.FirstOrDefault(r => r.Name == s.ToLowerInvariant()) is { Name: not null } row ? row.Method
            : throw new InvalidOptionException(option, $"'{s}' is not one of {string.Join(", ", Table.Select(r => r.Name))}");
}
