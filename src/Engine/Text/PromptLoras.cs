using System.Globalization;
using System.Text.RegularExpressions;

namespace LayerDiffusion.Native.Text;

/// <summary>One `&lt;lora:NAME:TE:UNET&gt;` tag: the name as written, the UNet and the text-encoder multipliers.</summary>
public sealed record PromptLora(string Name, float Weight, float TextWeight);

/// <summary>
/// A1111's extra-network syntax in a prompt (modules/extra_networks.py parse_prompt): every `&lt;kind:args&gt;` tag
/// is removed from the text the encoders see. For `lora` (and its alias `lyco`) the arguments are
/// NAME[:TE[:UNET]] with named te=/unet= overrides; the UNet multiplier defaults to the text-encoder one, which
/// defaults to 1.
/// </summary>
public static partial class PromptLoras
{
    [GeneratedRegex(@"<(\w+):([^>]+)>")]
    private static partial Regex Tag();

    public static (string Text, IReadOnlyList<PromptLora> Loras) Extract(string prompt)
    {
        var loras = new List<PromptLora>();
        string text = Tag().Replace(prompt, m =>
        {
            if (m.Groups[1].Value is "lora" or "lyco") loras.Add(Parse(m.Value, m.Groups[2].Value));
            return "";
        });
        return (text, loras);
    }

    private static PromptLora Parse(string tag, string args)
    {
        var positional = new List<string>();
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in args.Split(':'))
        {
            int eq = item.IndexOf('=');
            if (eq > 0 && positional.Count > 0) named[item[..eq]] = item[(eq + 1)..];
            else positional.Add(item);
        }
        string name = positional[0];
        string te = named.GetValueOrDefault("te") ?? (positional.Count > 1 ? positional[1] : "1");
        string unet = named.GetValueOrDefault("unet") ?? (positional.Count > 2 ? positional[2] : te);
        return new PromptLora(name, Number(tag, unet), Number(tag, te));
    }

    private static float Number(string tag, string value) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float weight) && float.IsFinite(weight) ? weight
            : throw new InvalidOptionException("--prompt", $"{tag}: '{value}' is not a number");
}
