using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LayerDiffusion.Native.Cli;

/// <summary>One line of a jobs file, turned into the arguments of `ld generate`/`layer`/`img2img`, or the reason it cannot be.</summary>
public sealed record BatchJobSpec(int Line, int Ordinal, string? Command, string[] Args, string Output, string RecordPath, string SettingsHash, string? Error);

/// <summary>
/// Reads a jobs file (JSON Lines): each non-blank line is one job, an object whose keys are the long option names of
/// `ld generate`, `ld layer` or `ld img2img` without the dashes, plus "command" (default "generate"). Strings and
/// numbers are option values, true/false turn a flag on or off, null removes a batch default. Options given on the
/// `ld batch` command line are every job's defaults. Output paths ("out", "json", "save-latent") are relative to the
/// output folder; a job without "out" writes line-NNNNN.png, so every line has its own name and shards over the same
/// file never collide. Every other path is as given (relative to the working directory).
/// </summary>
public static class BatchJobFile
{
    public static readonly string[] Commands = ["generate", "layer", "img2img"];
    private static readonly string[] OutputOptions = ["--out", "--json", "--save-latent"];
    /// <summary>Options whose values are input files: their size and modification time are part of the settings hash.</summary>
    private static readonly string[] InputFileOptions = ["--model", "--layer-model", "--transparent-decoder", "--transparent-encoder", "--tokenizer", "--fg", "--bg", "--blend", "--init"];
    /// <summary>Options that may be given several times (a JSON array in a job); their values are kept joined by
    /// <see cref="Separator"/>.</summary>
    public static readonly string[] Repeatable = ["--lora"];
    public const char Separator = '\0';
    /// <summary>Options that change what a job prints, not what it writes.</summary>
    private static readonly string[] NotSettings = ["--quiet"];

    /// <summary>Every option a job (or the batch's defaults) may set, with whether it is a flag.</summary>
    public static readonly IReadOnlyDictionary<string, bool> JobOptions = BuildJobOptions();

    private static Dictionary<string, bool> BuildJobOptions()
    {
        var all = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var o in CliOptions.All.Where(o => o.Commands.Intersect(Commands).Any() && o.Name is not ("--help" or "--version")))
            all.TryAdd(o.Name, o.IsFlag);
        return all;
    }

    public static List<BatchJobSpec> Read(string path, IReadOnlyDictionary<string, string?> defaults, string outDir)
    {
        var lines = File.ReadAllLines(path);
        var jobs = new List<BatchJobSpec>();
        var outputs = new Dictionary<string, int>(StringComparer.Ordinal);
        int ordinal = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            var job = Parse(i + 1, ordinal++, lines[i], defaults, outDir);
            if (job.Error is null && !outputs.TryAdd(Path.GetFullPath(job.Output), job.Line))
                job = job with { Error = $"out: {job.Output} is also line {outputs[Path.GetFullPath(job.Output)]}'s output" };
            jobs.Add(job);
        }
        return jobs;
    }

    public static BatchJobSpec Parse(int line, int ordinal, string text, IReadOnlyDictionary<string, string?> defaults, string outDir)
    {
        string fallbackOut = Path.Combine(outDir, $"line-{line:D5}.png");
        var options = new Dictionary<string, string?>(defaults, StringComparer.Ordinal);
        string command = "generate";
        // The command as far as the line says it (null when the line is not a job at all).
        BatchJobSpec Failed(string error, bool isJob = true) => new(line, ordinal, isJob && Commands.Contains(command) ? command : null, [], fallbackOut, "", "", error);
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return Failed("a job is a JSON object ({\"prompt\": \"...\", \"seed\": 7, ...})", isJob: false);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "command")
                {
                    command = prop.Value.ValueKind == JsonValueKind.String ? prop.Value.GetString()! : "";
                    if (!Commands.Contains(command)) return Failed($"command: '{prop.Value}' is not one of {string.Join(", ", Commands)}");
                    continue;
                }
                string name = "--" + prop.Name;
                if (!JobOptions.TryGetValue(name, out bool flag))
                    return Failed($"{prop.Name}: not an option of ld generate/layer/img2img (keys are long option names without the dashes)");
                switch (prop.Value.ValueKind)
                {
                    case JsonValueKind.Null: options.Remove(name); break;
                    case JsonValueKind.True when flag: options[name] = null; break;
                    case JsonValueKind.False when flag: options.Remove(name); break;
                    case JsonValueKind.String when !flag: options[name] = prop.Value.GetString(); break;
                    case JsonValueKind.Number when !flag: options[name] = prop.Value.GetRawText(); break;
                    case JsonValueKind.Array when Repeatable.Contains(name) && prop.Value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String):
                        options[name] = string.Join(Separator, prop.Value.EnumerateArray().Select(v => v.GetString()));
                        break;
                    default:
                        return Failed(flag ? $"{prop.Name}: is a flag; give true or false"
                            : Repeatable.Contains(name) ? $"{prop.Name}: give a string or an array of strings" : $"{prop.Name}: give a string or a number");
                }
            }
        }
        catch (JsonException e)
        {
            return Failed($"not valid JSON ({e.Message})", isJob: false);
        }

        foreach (var o in OutputOptions)
            if (options.TryGetValue(o, out var v) && v is not null) options[o] = Path.Combine(outDir, v);
        options.TryAdd("--out", fallbackOut);
        string output = options["--out"]!;
        string record = (output.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? output[..^4] : output) + ".ld-job.json";

        var args = new List<string>();
        foreach (var (name, value) in options.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (value is null) { args.Add(name); continue; }
            foreach (var one in Repeatable.Contains(name) ? value.Split(Separator) : [value]) args.AddRange([name, one]);
        }
        return new BatchJobSpec(line, ordinal, command, [.. args], output, record, SettingsHash(command, options), null);
    }

    /// <summary>
    /// What identifies a job's result: the command, every option that changes the output, and the size and time of
    /// each input file (a model replaced under the same name runs the job again), the user LoRAs included: each
    /// --lora file and each file a &lt;lora:NAME&gt; tag of the prompt finds under --lora-dir, as the job will find it.
    /// </summary>
    private static string SettingsHash(string command, Dictionary<string, string?> options)
    {
        var text = new StringBuilder(command).Append('\n');
        foreach (var (name, value) in options.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (NotSettings.Contains(name)) continue;
            text.Append(name).Append('=').Append(value ?? "true").Append('\n');
            if (value is not null && InputFileOptions.Contains(name) && File.Exists(value)) AppendIdentity(text, value);
        }
        foreach (var lora in LoraFiles(options))
            if (File.Exists(lora)) AppendIdentity(text.Append("lora ").Append(lora).Append('\n'), lora);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()))).ToLowerInvariant();
    }

    private static void AppendIdentity(StringBuilder text, string file)
    {
        var info = new FileInfo(file);
        text.Append(' ').Append(info.Length.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>The job's LoRA files as GenerateCommand resolves them; a value it will refuse adds nothing here (the job fails with that error).</summary>
    private static List<string> LoraFiles(Dictionary<string, string?> options)
    {
        var files = new List<string>();
        try
        {
            if (options.GetValueOrDefault("--lora") is { } values)
                files.AddRange(values.Split(Separator).Select(v => GenerationOptions.LoraValue(v).Path));
            if (options.GetValueOrDefault("--prompt") is { } prompt && options.GetValueOrDefault("--lora-dir") is { } dir && Directory.Exists(dir))
                files.AddRange(Text.PromptLoras.Extract(prompt).Loras.Select(tag => GenerationOptions.FindLora(dir, tag.Name)).OfType<string>());
        }
        catch (InvalidOptionException)
        {
        }
        return files;
    }
}
