namespace LayerDiffusion.Native.Bench;

/// <summary>The networks a component keeps loaded while it runs; the session frees each one once no later component needs it.</summary>
[Flags]
public enum BenchNeeds { None = 0, Text = 1, Unet = 2, Vae = 4, Decoder = 8, Encoder = 16 }

/// <summary>
/// One measurable unit of `ld bench`: its name (the record name it writes), what it times, the networks it keeps
/// loaded, and the optional files it uses (synthetic runs write only the files some selected component uses).
/// </summary>
public sealed record BenchComponent(string Name, string Summary, BenchNeeds Needs, Action<BenchContext> Run, BenchFiles Files = BenchFiles.None);

/// <summary>Every component in run order, and the group names `--components` accepts.</summary>
public static class BenchComponents
{
    public static IReadOnlyList<BenchComponent> All { get; } =
    [
        new("load", "model load from safetensors: text encoders, UNet, VAE, transparent decoder and encoder (each freed after)", BenchNeeds.None, LoadBench.Run,
            BenchFiles.Decoder | BenchFiles.Encoder),
        new("text_encode", "CLIP-L + OpenCLIP-G on one 77-token chunk", BenchNeeds.Text, TextBench.Run),
        new("attention", "backend attention alone at the UNet's and the decoder's shapes", BenchNeeds.None, AttentionBench.Run, BenchFiles.Decoder),
        new("unet_step", "one SDXL UNet forward per size and batch", BenchNeeds.Unet, UnetBench.Run),
        new("unet_call", "the sampler's UNet call (upload x, forward, read eps back): eager, with the K/V cache, and as CUDA graph replays (unless LD_CUDA_GRAPHS=0)", BenchNeeds.Unet, UnetBench.Call),
        new("patch_attn", "merge the attention LoRA (layer_xl_transparent_attn) into the UNet weights", BenchNeeds.Unet, ctx => PatchBench.Run(ctx, "patch_attn", ctx.Files.AttentionPatch), BenchFiles.AttentionPatch),
        new("patch_conv", "merge the conv offsets (layer_xl_transparent_conv) into the UNet weights", BenchNeeds.Unet, ctx => PatchBench.Run(ctx, "patch_conv", ctx.Files.ConvPatch), BenchFiles.ConvPatch),
        new("vae_encode", "SDXL VAE encoder (posterior moments) per size", BenchNeeds.Vae, VaeBench.Encode),
        new("vae_decode", "SDXL VAE decoder per size", BenchNeeds.Vae, VaeBench.Decode),
        new("tdec_single", "transparent decoder (UNet1024), one pass", BenchNeeds.Decoder, TransparentBench.DecodeSingle, BenchFiles.Decoder),
        new("tdec_8way", "transparent decoder with the 8-way flip/rotate augmentation and median", BenchNeeds.Decoder, TransparentBench.DecodeAugmented, BenchFiles.Decoder),
        new("tenc", "transparent encoder (latent offset) per size", BenchNeeds.Encoder, TransparentBench.Encode, BenchFiles.Encoder),
        new("generate", "whole transparent generation: text, sampling (CFG), VAE decode, 8-way transparent decode", BenchNeeds.None, GenerationBench.Run, BenchFiles.Decoder),
    ];

    private static readonly Dictionary<string, string[]> Groups = new(StringComparer.Ordinal)
    {
        ["all"] = All.Select(c => c.Name).ToArray(),
        ["text"] = ["text_encode"],
        ["unet"] = ["unet_step"],
        ["patch"] = ["patch_attn", "patch_conv"],
        ["vae"] = ["vae_encode", "vae_decode"],
        ["tdec"] = ["tdec_single", "tdec_8way"],
        ["transparent"] = ["tdec_single", "tdec_8way", "tenc"],
    };

    public static string Names => string.Join(", ", All.Select(c => c.Name).Concat(Groups.Keys));

    /// <summary>The components a comma list names (components or groups), in run order.</summary>
    public static List<BenchComponent> Select(string list)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Groups.TryGetValue(raw, out var members)) wanted.UnionWith(members);
            else if (All.Any(c => c.Name == raw)) wanted.Add(raw);
            else throw new InvalidOptionException("--components", $"'{raw}' is not a component (valid: {Names})");
        }
        if (wanted.Count == 0) throw new InvalidOptionException("--components", "names no component");
        return All.Where(c => wanted.Contains(c.Name)).ToList();
    }
}
