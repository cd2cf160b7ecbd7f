using System.Globalization;
using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.Lora;

/// <summary>
/// The diffusers name of each ldm UNet module, for LoRAs that name modules the diffusers way (kohya's SD1.5 LoRAs:
/// `lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q`). Forge builds the same correspondence from
/// the UNet's configuration (ldm_patched utils.unet_to_diffusers, which its LoRA loader turns into `lora_unet_` keys);
/// here it is read off the checkpoint's own module names, so any depth, level count or res-block count maps:
/// input block n is resnet/attention i of down block L (a block whose resnet is `op` is L's downsampler and ends the
/// level), output block n is resnet/attention i of up block L (a block holding an upsampler `conv` ends the level),
/// the middle block's 0/2 are mid_block.resnets.0/1 and 1 its attention. Inside an attention (transformer) the names
/// agree; a resnet's differ (in_layers.2 is conv1, ...).
/// </summary>
public static class DiffusersUnetNames
{
    private static readonly Dictionary<string, string> Resnet =
        ResnetNames.Ldm.Parts.Zip(ResnetNames.Diffusers.Parts).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);

    private static readonly Dictionary<string, string> Basic = new(StringComparer.Ordinal)
    {
        ["input_blocks.0.0"] = "conv_in", ["time_embed.0"] = "time_embedding.linear_1", ["time_embed.2"] = "time_embedding.linear_2",
        ["out.0"] = "conv_norm_out", ["out.2"] = "conv_out", ["label_emb.0.0"] = "add_embedding.linear_1", ["label_emb.0.2"] = "add_embedding.linear_2",
    };

    /// <summary>ldm module path ("input_blocks.1.0.in_layers.2") → diffusers module path ("down_blocks.0.resnets.0.conv1"), for every module that has one.</summary>
    public static Dictionary<string, string> Of(IReadOnlyCollection<string> ldmModules)
    {
        var down = Levels(ldmModules, "input_blocks.", first: 1, endsLevel: (n, rest) => rest == $"{n}.0.op");
        var up = Levels(ldmModules, "output_blocks.", first: 0, endsLevel: (n, rest) => IsUpsampler(rest, n));
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var module in ldmModules)
            if (Diffusers(module, down, up) is { } name) map[module] = name;
        return map;
    }

    private static string? Diffusers(string module, Dictionary<int, (int Level, int Index)> down, Dictionary<int, (int Level, int Index)> up)
    {
        if (Basic.TryGetValue(module, out var basic)) return basic;
        if (Split(module, "input_blocks.") is var (n, sub, rest) && down.TryGetValue(n, out var d))
            return sub != 0 ? $"down_blocks.{d.Level}.attentions.{d.Index}.{rest}"
                : rest == "op" ? $"down_blocks.{d.Level}.downsamplers.0.conv"
                : ResnetName($"down_blocks.{d.Level}.resnets.{d.Index}", rest);
        if (Split(module, "output_blocks.") is var (m, subOut, restOut) && up.TryGetValue(m, out var u))
            return subOut == 0 ? ResnetName($"up_blocks.{u.Level}.resnets.{u.Index}", restOut)
                : restOut == "conv" ? $"up_blocks.{u.Level}.upsamplers.0.conv"
                : $"up_blocks.{u.Level}.attentions.{u.Index}.{restOut}";
        if (module.StartsWith("middle_block.", StringComparison.Ordinal) && module.Split('.', 3) is [_, var block, var tail])
            return block switch
            {
                "1" => $"mid_block.attentions.0.{tail}",
                "0" or "2" => ResnetName($"mid_block.resnets.{(block == "0" ? 0 : 1)}", tail),
                _ => null,
            };
        return null;
    }

    private static string? ResnetName(string prefix, string rest) => Resnet.TryGetValue(rest, out var r) ? $"{prefix}.{r}" : null;

    /// <summary>"output_blocks.5.2.conv" → (5, 2, "conv"); null when the module is not under <paramref name="prefix"/>.</summary>
    private static (int Block, int Sub, string Tail)? Split(string module, string prefix)
    {
        if (!module.StartsWith(prefix, StringComparison.Ordinal)) return null;
        var parts = module[prefix.Length..].Split('.', 3);
        return parts.Length == 3 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int sub) ? (n, sub, parts[2]) : null;
    }

    private static bool IsUpsampler(string rest, int n) => rest == $"{n}.1.conv" || rest == $"{n}.2.conv";

    /// <summary>Each block number from <paramref name="first"/> on → (level, index in the level), a level ending after a block <paramref name="endsLevel"/> marks.</summary>
    private static Dictionary<int, (int Level, int Index)> Levels(IReadOnlyCollection<string> modules, string prefix, int first, Func<int, string, bool> endsLevel)
    {
        var blocks = new SortedDictionary<int, bool>();
        foreach (var module in modules)
            if (Split(module, prefix) is var (n, sub, rest) && n >= first)
                blocks[n] = (blocks.TryGetValue(n, out bool ends) && ends) || endsLevel(n, $"{n}.{sub}.{rest}");
        var levels = new Dictionary<int, (int, int)>();
        int level = 0, index = 0;
        foreach (var (n, ends) in blocks)
        {
            levels[n] = (level, index++);
            if (ends) (level, index) = (level + 1, 0);
        }
        return levels;
    }
}
