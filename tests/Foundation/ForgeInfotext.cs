using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>
/// A test oracle: how Forge reads an infotext back, ported from lllyasviel/stable-diffusion-webui-forge
/// (modules/infotext_utils.py parse_generation_parameters, modules/sd_samplers.py get_sampler_and_scheduler, and the
/// sampler/scheduler tables of sd_samplers_kdiffusion.py, sd_samplers_timesteps.py, sd_samplers_lcm.py,
/// modules_forge/alter_samplers.py and sd_schedulers.py). Independent of the engine's own parser and name tables.
/// </summary>
internal static partial class ForgeInfotext
{
    [GeneratedRegex("""\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)""")]
    private static partial Regex Param();

    [GeneratedRegex(@"^(\d+)x(\d+)$")]
    private static partial Regex ImageSize();

    /// <summary>parse_generation_parameters, with the defaults this engine's keys depend on.</summary>
    public static Dictionary<string, string> Parse(string x)
    {
        var res = new Dictionary<string, string>();
        var lines = x.Trim().Split('\n').ToList();
        string lastline = lines[^1];
        lines.RemoveAt(lines.Count - 1);
        if (Param().Matches(lastline).Count < 3)
        {
            lines.Add(lastline);
            lastline = "";
        }
        string prompt = "", negative = "";
        bool doneWithPrompt = false;
        foreach (var raw in lines)
        {
            string line = raw.Trim();
            if (line.StartsWith("Negative prompt:", StringComparison.Ordinal))
            {
                doneWithPrompt = true;
                line = line[16..].Trim();
            }
            if (doneWithPrompt) negative += (negative == "" ? "" : "\n") + line;
            else prompt += (prompt == "" ? "" : "\n") + line;
        }
        foreach (Match m in Param().Matches(lastline))
        {
            string k = m.Groups[1].Value, v = m.Groups[2].Value;
            if (v.Length == 0) continue; // Forge's v[0] raises; the key is reported and skipped
            if (v[0] == '"' && v[^1] == '"') v = Unquote(v);
            var size = ImageSize().Match(v);
            if (size.Success)
            {
                res[$"{k}-1"] = size.Groups[1].Value;
                res[$"{k}-2"] = size.Groups[2].Value;
            }
            else res[k] = v;
        }
        res["Prompt"] = prompt;
        res["Negative prompt"] = negative;
        res.TryAdd("RNG", "GPU");
        res.TryAdd("Schedule type", "Automatic");
        return res;
    }

    private static string Unquote(string text)
    {
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text));
            return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString()! : text;
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private sealed record ForgeSampler(string Label, string? Scheduler);

    private sealed record ForgeScheduler(string Name, string Label, params string[] Aliases);

    // all_samplers in Forge's order: label and options['scheduler'].
    private static readonly ForgeSampler[] Samplers =
    [
        new("DPM++ 2M", "karras"), new("DPM++ SDE", "karras"), new("DPM++ 2M SDE", "exponential"), new("DPM++ 2M SDE Heun", "exponential"),
        new("DPM++ 2S a", "karras"), new("DPM++ 3M SDE", "exponential"), new("Euler a", null), new("Euler", null), new("LMS", null),
        new("Heun", null), new("DPM2", "karras"), new("DPM2 a", "karras"), new("DPM fast", null), new("DPM adaptive", null),
        new("Restart", "karras"), new("HeunPP2", null), new("IPNDM", null), new("IPNDM_V", null), new("DEIS", null),
        new("DDIM", null), new("DDIM CFG++", null), new("PLMS", null), new("UniPC", null), new("LCM", null), new("DDPM", null),
    ];

    private static readonly ForgeScheduler[] Schedulers =
    [
        new("automatic", "Automatic"), new("uniform", "Uniform"), new("karras", "Karras"), new("exponential", "Exponential"),
        new("polyexponential", "Polyexponential"), new("sgm_uniform", "SGM Uniform", "SGMUniform"), new("kl_optimal", "KL Optimal"),
        new("align_your_steps", "Align Your Steps"), new("simple", "Simple"), new("normal", "Normal"), new("ddim", "DDIM"),
        new("beta", "Beta"), new("turbo", "Turbo"), new("align_your_steps_GITS", "Align Your Steps GITS"),
        new("align_your_steps_11", "Align Your Steps 11"), new("align_your_steps_32", "Align Your Steps 32"),
    ];

    /// <summary>get_sampler_and_scheduler (convert_automatic): the sampler label and the scheduler label Forge's UI shows.</summary>
    public static (string Sampler, string Scheduler) SamplerAndScheduler(string? samplerName, string? schedulerName)
    {
        var found = Schedulers.FirstOrDefault(s => s.Name == schedulerName || s.Label == schedulerName) ?? Schedulers[0];
        string name = samplerName ?? Samplers[0].Label;
        foreach (var scheduler in Schedulers)
            foreach (var option in new[] { scheduler.Label, scheduler.Name }.Concat(scheduler.Aliases))
                if (name.EndsWith(" " + option, StringComparison.Ordinal))
                {
                    found = scheduler;
                    name = name[..^(option.Length + 1)];
                    break;
                }
        var sampler = Samplers.FirstOrDefault(s => s.Label == name) ?? Samplers[0];
        if (sampler.Scheduler == found.Name) found = Schedulers[0];
        return (sampler.Label, found.Label);
    }

    /// <summary>
    /// What Forge then runs (KDiffusionSampler.get_sigmas): the sampler, and the scheduler's name — Automatic becomes
    /// the sampler's own scheduler, or null where that is the model's get_sigmas (Euler, Euler a, LMS, Heun, LCM, …).
    /// </summary>
    public static (string Sampler, string? Scheduler) Effective(IReadOnlyDictionary<string, string> infotext)
    {
        var (samplerLabel, schedulerLabel) = SamplerAndScheduler(infotext.GetValueOrDefault("Sampler"), infotext.GetValueOrDefault("Schedule type"));
        var scheduler = Schedulers.First(s => s.Label == schedulerLabel);
        string? name = scheduler.Name == "automatic" ? Samplers.First(s => s.Label == samplerLabel).Scheduler : scheduler.Name;
        return (samplerLabel, name);
    }
}
