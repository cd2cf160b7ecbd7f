using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Bench;

/// <summary>Real model files given by the user (any may be null but the checkpoint); --models-dir fills the LayerDiffusion ones by their released names.</summary>
public sealed record BenchUserModels(string Checkpoint, string? Tokenizer, string? LayerModel, string? ConvLayerModel,
    string? Decoder, string? Encoder, string? ModelsDir);

/// <summary>Everything `ld bench` can be told; null means the device's default (see <see cref="BenchSession"/>).</summary>
public sealed record BenchOptions
{
    public string Device { get; init; } = "auto";
    public Precision? Precision { get; init; }
    /// <summary>Random weights at the released shapes, on any device (the default on a GPU when no files are given).</summary>
    public bool Synthetic { get; init; }
    /// <summary>Random weights at the demo model's tiny sizes, on any device (the default on the CPU; a quick GPU smoke run).</summary>
    public bool Tiny { get; init; }
    /// <summary>Real files; null means synthetic weights.</summary>
    public BenchUserModels? Models { get; init; }
    public IReadOnlyList<(int Width, int Height)>? Sizes { get; init; }
    public IReadOnlyList<int>? Batches { get; init; }
    public string Components { get; init; } = "all";
    public int? Warmup { get; init; }
    public int? Runs { get; init; }
    /// <summary>Where synthetic files are written (and reused); default $LD_CACHE_DIR or the temp folder's ld-cache.</summary>
    public string? WorkDir { get; init; }
    public int Steps { get; init; } = 20;
    public LayerMethod Method { get; init; } = LayerMethod.Attn;
    /// <summary>
    /// Keep a cost ledger (`ld profile`): every op of each measured run recorded by class with its launches, FLOPs,
    /// bytes and time, and a record per op class after each component's (Backends/Ledger).
    /// </summary>
    public bool Ledger { get; init; }
    /// <summary>The command as typed, for the file's context (null when not run from the command line).</summary>
    public string? CommandLine { get; init; }

    /// <summary>"1024x1024,896x1152" → (width, height) pairs, multiples of 8 in [64, 8192].</summary>
    public static List<(int Width, int Height)> ParseSizes(string option, string text)
    {
        var list = new List<(int, int)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var wh = part.Split('x');
            if (wh.Length != 2 || !int.TryParse(wh[0], out int w) || !int.TryParse(wh[1], out int h))
                throw new InvalidOptionException(option, $"'{part}' is not WIDTHxHEIGHT (e.g. 1024x1024)");
            foreach (int v in new[] { w, h })
                if (v < 64 || v > 8192 || v % 8 != 0)
                    throw new InvalidOptionException(option, $"'{part}': sides must be multiples of 8 in [64, 8192]");
            list.Add((w, h));
        }
        if (list.Count == 0) throw new InvalidOptionException(option, "names no size");
        return list;
    }

    /// <summary>"1,2" → positive integers up to <paramref name="max"/>.</summary>
    public static List<int> ParseInts(string option, string text, int max)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, out int v) || v < 1 || v > max)
                throw new InvalidOptionException(option, $"'{part}' is not an integer in [1, {max}]");
            list.Add(v);
        }
        if (list.Count == 0) throw new InvalidOptionException(option, "names no value");
        return list;
    }
}
