using System.Text.Json;
using System.Text.Json.Serialization;

namespace LayerDiffusion.Native.Bench;

/// <summary>A bench file: bench JSON v1's envelope. perf/bench-v1.schema.json is its JSON Schema; perf/README.md explains the fields.</summary>
public sealed record BenchFile
{
    public const int CurrentVersion = 1;

    public required int SchemaVersion { get; init; }
    public required BenchEnvironment Context { get; init; }
    public required IReadOnlyList<BenchRecord> Records { get; init; }
}

/// <summary>
/// Writes bench JSON v1 (System.Text.Json source generation: no reflection, NativeAOT-clean) and reads it back, along
/// with the old format (a bare array of records with a shape text: our files before v1 and perf/torch_reference.py's),
/// whose shape texts are parsed into parameters so both compare field by field.
/// </summary>
public static class BenchJson
{
    /// <summary>Source-generated metadata; relaxed escaping keeps notes readable (apostrophes, "×") in a file that is never embedded in HTML.</summary>
    private static readonly BenchJsonContext Json = new(new JsonSerializerOptions(BenchJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static void Write(Stream stream, BenchFile file) => JsonSerializer.Serialize(stream, file, Json.BenchFile);

    /// <summary>Writes through a temporary file and a rename, so a reader never sees half a file (partial results are rewritten after each component).</summary>
    public static void Write(string path, BenchFile file)
    {
        string tmp = path + ".tmp";
        using (var fs = File.Create(tmp)) Write(fs, file);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>A v1 or old-format file; throws LdException naming the file (and the record and field for old files).</summary>
    public static BenchFile Read(string path)
    {
        if (!File.Exists(path)) throw new LdException($"{path}: file not found");
        byte[] bytes = File.ReadAllBytes(path);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw new LdException($"{path}: not JSON ({e.Message})"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Array) return LegacyBenchJson.Read(path, root);
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("schema_version", out var v) || v.ValueKind != JsonValueKind.Number)
                throw new LdException($"{path}: neither a bench JSON v1 object (schema_version, context, records) nor an old-format array of records");
            if (!v.TryGetInt32(out int version) || version != BenchFile.CurrentVersion)
                throw new LdException($"{path}: schema_version {v} is not one this build reads ({BenchFile.CurrentVersion})");
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, Json.BenchFile)
                ?? throw new LdException($"{path}: empty bench file");
        }
        catch (JsonException e) { throw new LdException($"{path}: not a valid bench JSON v1 file ({e.Message})"); }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(BenchFile))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
