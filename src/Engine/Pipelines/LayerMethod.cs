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
}

public static class LayerMethods
{
    public static string Name(LayerMethod m) => m switch
    {
        LayerMethod.Attn => "attn",
        LayerMethod.Conv => "conv",
        LayerMethod.Fg2Ble => "fg2ble",
        LayerMethod.Bg2Ble => "bg2ble",
        LayerMethod.FgBle2Bg => "fgble2bg",
        _ => "bgble2fg",
    };

    /// <summary>The extension's infotext name for the method.</summary>
    public static string DisplayName(LayerMethod m) => m switch
    {
        LayerMethod.Attn => "(SDXL) Only Generate Transparent Image (Attention Injection)",
        LayerMethod.Conv => "(SDXL) Only Generate Transparent Image (Conv Injection)",
        LayerMethod.Fg2Ble => "(SDXL) From Foreground to Blending",
        LayerMethod.Bg2Ble => "(SDXL) From Background to Blending",
        LayerMethod.FgBle2Bg => "(SDXL) From Foreground and Blending to Background",
        _ => "(SDXL) From Background and Blending to Foreground",
    };

    /// <summary>The released file that holds this method's UNet patch.</summary>
    public static string PatchFileName(LayerMethod m) => m switch
    {
        LayerMethod.Attn => "layer_xl_transparent_attn.safetensors",
        LayerMethod.Conv => "layer_xl_transparent_conv.safetensors",
        LayerMethod.Fg2Ble => "layer_xl_fg2ble.safetensors",
        LayerMethod.Bg2Ble => "layer_xl_bg2ble.safetensors",
        LayerMethod.FgBle2Bg => "layer_xl_fgble2bg.safetensors",
        _ => "layer_xl_bgble2fg.safetensors",
    };

    public const string DecoderFileName = "vae_transparent_decoder.safetensors";
    public const string EncoderFileName = "vae_transparent_encoder.safetensors";

    /// <summary>Condition latents concatenated after the noisy latent, in channel order.</summary>
    public static int ConcatCount(LayerMethod m) => m switch
    {
        LayerMethod.Fg2Ble or LayerMethod.Bg2Ble => 1,
        LayerMethod.FgBle2Bg or LayerMethod.BgBle2Fg => 2,
        _ => 0,
    };

    /// <summary>Whether the output goes through the transparent decoder (RGBA) or is an opaque image.</summary>
    public static bool OutputsTransparent(LayerMethod m) => m is LayerMethod.Attn or LayerMethod.Conv or LayerMethod.BgBle2Fg;

    public static LayerMethod Parse(string option, string s) => s.ToLowerInvariant() switch
    {
        "attn" => LayerMethod.Attn,
        "conv" => LayerMethod.Conv,
        "fg2ble" => LayerMethod.Fg2Ble,
        "bg2ble" => LayerMethod.Bg2Ble,
        "fgble2bg" => LayerMethod.FgBle2Bg,
        "bgble2fg" => LayerMethod.BgBle2Fg,
        _ => throw new InvalidOptionException(option, $"'{s}' is not one of attn, conv, fg2ble, bg2ble, fgble2bg, bgble2fg"),
    };
}
