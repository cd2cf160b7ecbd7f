using System.Text.Json;

namespace LayerDiffusion.Native.Verify;

/// <summary>Tolerance of one compared tensor: max |got - want| and, where given, ||got - want|| / ||want||.</summary>
public sealed record Tolerance(double MaxAbs, double? RelL2);

public sealed record OutputSpec(string Name, int[] Shape, string DType, Tolerance Tolerance);

/// <summary>One entry of a golden manifest.json.</summary>
public sealed class GoldenCase
{
    public required string Name { get; init; }
    public required string Kind { get; init; }
    public required string Directory { get; init; }
    public string? File { get; init; }
    public IReadOnlyList<string> Uses { get; init; } = [];
    public JsonElement Settings { get; init; }
    public IReadOnlyList<string> Inputs { get; init; } = [];
    public IReadOnlyList<OutputSpec> Outputs { get; init; } = [];

    public string FilePath => Path.Combine(Directory, File ?? throw new LdException($"case {Name} names no file"));
}

public sealed class GoldenManifest
{
    public required string Directory { get; init; }
    public required IReadOnlyList<GoldenCase> Cases { get; init; }
    public bool Holdout { get; init; }

    public GoldenCase? Find(string name) => Cases.FirstOrDefault(c => c.Name == name);

    public static GoldenManifest Load(string dir)
    {
        string path = Path.Combine(dir, "manifest.json");
        if (!System.IO.File.Exists(path)) throw new LdException($"{path}: not found (point --golden at a golden data folder)");
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
        var root = doc.RootElement;
        if (!root.TryGetProperty("cases", out var cases) || cases.ValueKind != JsonValueKind.Object)
            throw new LdException($"{path}: no 'cases' object");
        var list = new List<GoldenCase>();
        foreach (var c in cases.EnumerateObject())
        {
            var v = c.Value;
            var uses = v.TryGetProperty("uses", out var u) && u.ValueKind == JsonValueKind.Array
                ? u.EnumerateArray().Select(x => x.GetString()!).ToArray() : [];
            var inputs = v.TryGetProperty("inputs", out var i) && i.ValueKind == JsonValueKind.Object
                ? i.EnumerateObject().Select(x => x.Name).ToArray() : [];
            var outputs = new List<OutputSpec>();
            if (v.TryGetProperty("outputs", out var o) && o.ValueKind == JsonValueKind.Object)
                foreach (var op in o.EnumerateObject())
                {
                    var spec = op.Value;
                    int[] shape = spec.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                    double maxAbs = spec.TryGetProperty("max_abs", out var ma) ? ma.GetDouble() : 0;
                    double? rel = spec.TryGetProperty("rel_l2", out var rl) ? rl.GetDouble() : null;
                    outputs.Add(new OutputSpec(op.Name, shape, spec.GetProperty("dtype").GetString()!, new Tolerance(maxAbs, rel)));
                }
            list.Add(new GoldenCase
            {
                Name = c.Name,
                Kind = v.GetProperty("kind").GetString()!,
                Directory = dir,
                File = v.TryGetProperty("file", out var f) ? f.GetString() : null,
                Uses = uses,
                Settings = v.TryGetProperty("settings", out var s) ? s.Clone() : default,
                Inputs = inputs,
                Outputs = outputs,
            });
        }
        bool holdout = root.TryGetProperty("holdout", out var h) && h.ValueKind == JsonValueKind.True;
        return new GoldenManifest { Directory = dir, Cases = list, Holdout = holdout };
    }
}
