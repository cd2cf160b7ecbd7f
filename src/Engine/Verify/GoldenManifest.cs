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
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new LdException($"{path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}");
        }
        using (doc)
        {
            var m = new ManifestFields(path);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw m.Error(null, null, $"the top level is {Describe(root)}, expected an object");
            var cases = m.Required(root, null, "cases", JsonValueKind.Object);
            var list = new List<GoldenCase>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var c in cases.EnumerateObject())
            {
                if (!names.Add(c.Name)) throw m.Error(c.Name, null, "appears twice");
                if (c.Value.ValueKind != JsonValueKind.Object) throw m.Error(c.Name, null, $"is {Describe(c.Value)}, expected an object");
                list.Add(ReadCase(m, dir, c.Name, c.Value));
            }
            bool holdout = root.TryGetProperty("holdout", out var h) && m.Bool(h, null, "holdout");
            return new GoldenManifest { Directory = dir, Cases = list, Holdout = holdout };
        }
    }

    private static GoldenCase ReadCase(ManifestFields m, string dir, string name, JsonElement v)
    {
        string kind = m.Required(v, name, "kind", JsonValueKind.String).GetString()!;
        var outputs = new List<OutputSpec>();
        if (m.Optional(v, name, "outputs", JsonValueKind.Object) is { } o)
            foreach (var op in o.EnumerateObject())
            {
                string field = $"outputs.{op.Name}";
                if (op.Value.ValueKind != JsonValueKind.Object) throw m.Error(name, field, $"is {Describe(op.Value)}, expected an object");
                var spec = op.Value;
                int[] shape = m.Required(spec, name, field + ".shape", JsonValueKind.Array, "shape").EnumerateArray()
                    .Select((d, i) => d.ValueKind == JsonValueKind.Number && d.TryGetInt32(out int x) && x >= 0 ? x
                        : throw m.Error(name, $"{field}.shape[{i}]", $"is {Describe(d)}, expected a non-negative integer")).ToArray();
                string dtype = m.Required(spec, name, field + ".dtype", JsonValueKind.String, "dtype").GetString()!;
                double maxAbs = m.Optional(spec, name, field + ".max_abs", JsonValueKind.Number, "max_abs") is { } ma ? m.Tolerance(ma, name, field + ".max_abs") : 0;
                double? rel = m.Optional(spec, name, field + ".rel_l2", JsonValueKind.Number, "rel_l2") is { } rl ? m.Tolerance(rl, name, field + ".rel_l2") : null;
                outputs.Add(new OutputSpec(op.Name, shape, dtype, new Tolerance(maxAbs, rel)));
            }
        return new GoldenCase
        {
            Name = name,
            Kind = kind,
            Directory = dir,
            File = m.Optional(v, name, "file", JsonValueKind.String)?.GetString(),
            Uses = m.Optional(v, name, "uses", JsonValueKind.Array) is { } u
                ? u.EnumerateArray().Select((x, i) => x.ValueKind == JsonValueKind.String ? x.GetString()!
                    : throw m.Error(name, $"uses[{i}]", $"is {Describe(x)}, expected a string")).ToArray()
                : [],
            Settings = m.Optional(v, name, "settings", JsonValueKind.Object)?.Clone() ?? default,
            Inputs = m.Optional(v, name, "inputs", JsonValueKind.Object) is { } i ? i.EnumerateObject().Select(x => x.Name).ToArray() : [],
            Outputs = outputs,
        };
    }

    internal static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string \"{Shorten(e.GetString()!)}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {e.GetRawText()}",
        _ => "null",
    };

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "..." : s;

    /// <summary>Field access that turns every missing field or wrong type into an error naming manifest.json, the case and the field.</summary>
    private sealed class ManifestFields(string path)
    {
        public LdException Error(string? @case, string? field, string message) =>
            new($"{path}: {(@case is null ? "" : $"case '{@case}': ")}{(field is null ? "" : $"field '{field}': ")}{message}");

        public JsonElement Required(JsonElement obj, string? @case, string field, JsonValueKind kind, string? key = null) =>
            Optional(obj, @case, field, kind, key) ?? throw Error(@case, field, $"is missing (expected {Kind(kind)})");

        public JsonElement? Optional(JsonElement obj, string? @case, string field, JsonValueKind kind, string? key = null)
        {
            if (!obj.TryGetProperty(key ?? field, out var v)) return null;
            if (v.ValueKind != kind) throw Error(@case, field, $"is {Describe(v)}, expected {Kind(kind)}");
            return v;
        }

        public bool Bool(JsonElement v, string? @case, string field) => v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(@case, field, $"is {Describe(v)}, expected true or false"),
        };

        public double Tolerance(JsonElement v, string @case, string field) =>
            v.TryGetDouble(out double d) && double.IsFinite(d) && d >= 0 ? d : throw Error(@case, field, $"is {v.GetRawText()}, expected a finite number >= 0");

        private static string Kind(JsonValueKind k) => k switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            _ => k.ToString().ToLowerInvariant(),
        };
    }
}
