using System.Globalization;
using LayerDiffusion.Native.Imaging;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>What a layerdiffusion_* infotext says about a run (the settings the extension reads back).</summary>
public sealed record LayerInfotextSettings(LayerMethod Method, float Weight, float StopAt, ResizeMode ResizeMode,
    bool HasForeground, bool HasBackground, bool HasBlend, string FgPrompt = "", string BgPrompt = "", string BlendPrompt = "");

/// <summary>
/// The extension's eleven infotext keys, in the order its process_before_every_sampling puts them in
/// extra_generation_params: enabled, method (the UI label), weight, ending_step, whether a foreground, background and
/// blending image was given ("True"/"False", Python's bool), the resize mode's label and the three additional prompts
/// (SD1.5 attention sharing's frame prompts; empty where the method's UI hides and clears them, always for the SDXL
/// methods), which A1111 writes as "key: " with nothing after.
/// </summary>
public static class LayerInfotext
{
    public const string Prefix = "layerdiffusion_";

    public static IEnumerable<KeyValuePair<string, string>> Parameters(GenerationSettings s, GenerationInputs inputs)
    {
        yield return new(Prefix + "enabled", "True");
        yield return new(Prefix + "method", LayerMethods.DisplayName(s.Method));
        yield return new(Prefix + "weight", Infotext.Number(s.Weight));
        yield return new(Prefix + "ending_step", Infotext.Number(s.StopAt));
        yield return new(Prefix + "fg_image", PythonBool(inputs.Foreground is not null));
        yield return new(Prefix + "bg_image", PythonBool(inputs.Background is not null));
        yield return new(Prefix + "blend_image", PythonBool(inputs.Blend is not null));
        yield return new(Prefix + "resize_mode", ResizeModes.Label(inputs.ResizeMode));
        yield return new(Prefix + "fg_additional_prompt", s.FgPrompt);
        yield return new(Prefix + "bg_additional_prompt", s.BgPrompt);
        yield return new(Prefix + "blend_additional_prompt", s.BlendPrompt);
    }

    private static string Text(IReadOnlyDictionary<string, string> parameters, string key) =>
        parameters.TryGetValue(Prefix + key, out var v) ? v : "";

    private static string PythonBool(bool b) => b ? "True" : "False";

    /// <summary>
    /// Reads the keys back (as parsed by <see cref="Infotext.Parse"/>); null when the infotext has none or says
    /// disabled. Throws naming the key when a value is not one the extension writes.
    /// </summary>
    public static LayerInfotextSettings? Read(IReadOnlyDictionary<string, string> parameters)
    {
        if (!parameters.TryGetValue(Prefix + "enabled", out var enabled) || enabled != "True") return null;
        string methodLabel = Required(parameters, "method");
        var method = Enum.GetValues<LayerMethod>().Where(m => LayerMethods.DisplayName(m) == methodLabel).Cast<LayerMethod?>().FirstOrDefault()
            ?? throw new FormatException($"{Prefix}method: '{methodLabel}' is not a method this engine runs");
        return new LayerInfotextSettings(method,
            Number(parameters, "weight", 1f), Number(parameters, "ending_step", 1f),
            parameters.TryGetValue(Prefix + "resize_mode", out var rm) ? ResizeModes.Parse(rm, Prefix + "resize_mode") : ResizeMode.CropAndResize,
            Bool(parameters, "fg_image"), Bool(parameters, "bg_image"), Bool(parameters, "blend_image"),
            Text(parameters, "fg_additional_prompt"), Text(parameters, "bg_additional_prompt"), Text(parameters, "blend_additional_prompt"));
    }

    private static string Required(IReadOnlyDictionary<string, string> parameters, string key) =>
        parameters.TryGetValue(Prefix + key, out var v) ? v : throw new FormatException($"{Prefix}{key}: missing");

    private static float Number(IReadOnlyDictionary<string, string> parameters, string key, float fallback)
    {
        if (!parameters.TryGetValue(Prefix + key, out var v)) return fallback;
        return float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && float.IsFinite(f)
            ? f : throw new FormatException($"{Prefix}{key}: '{v}' is not a number");
    }

    private static bool Bool(IReadOnlyDictionary<string, string> parameters, string key) =>
        parameters.TryGetValue(Prefix + key, out var v) && v == "True";
}
