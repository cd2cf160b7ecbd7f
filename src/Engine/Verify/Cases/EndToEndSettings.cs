using System.Text.Json;
using LayerDiffusion.Native.Pipelines;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>The generation settings an end-to-end golden case declares (e2e_transparent, sd15_e2e_*).</summary>
internal static class EndToEndSettings
{
    /// <summary>
    /// Prompt, negative, seed, RNG, size, steps, CFG, sampler, schedule and Stop At from the case's settings; the
    /// caller adds what its workflow has beyond these (batch, weight, frame prompts). Refuses timesteps the pipeline
    /// does not produce (it quantizes, as Forge).
    /// </summary>
    public static GenerationSettings Read(JsonElement s, LayerMethod method)
    {
        string Str(string k) => s.GetProperty(k).GetString()!;
        if (s.TryGetProperty("timesteps", out var ts) && ts.GetString() != "quantized")
            throw new NotSupportedException($"timesteps '{ts.GetString()}' (the pipeline quantizes, as Forge)");
        return new GenerationSettings
        {
            Prompt = Str("prompt"),
            Negative = Str("negative"),
            Seed = s.GetProperty("seed").GetInt64(),
            Rng = Str("rng"),
            Width = s.GetProperty("width").GetInt32(),
            Height = s.GetProperty("height").GetInt32(),
            Steps = s.GetProperty("steps").GetInt32(),
            Cfg = s.GetProperty("cfg").GetSingle(),
            Sampler = Str("sampler"),
            Schedule = s.TryGetProperty("schedule", out var sch) ? sch.GetString() : null,
            Method = method,
            StopAt = s.TryGetProperty("stop_at", out var st) ? st.GetSingle() : 1f,
        };
    }
}
