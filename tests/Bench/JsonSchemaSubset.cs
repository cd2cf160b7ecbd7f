using System.Text.Json;
using System.Text.RegularExpressions;

namespace LayerDiffusion.Native.Tests.Bench;

/// <summary>
/// A JSON Schema (draft 2020-12) validator for the keywords perf/bench-v1.schema.json uses: type (one or a list),
/// properties, required, additionalProperties (false or a schema), items, minItems, enum, const, minimum, minLength,
/// pattern, and local $ref into $defs. Annotations ($schema, $id, title, description) are ignored. Any other keyword
/// is an error, so the schema cannot rely on a keyword this validator would silently skip. As in the standard,
/// type-specific keywords apply only to values of their type (minLength to strings, minimum to numbers, ...).
/// </summary>
public sealed class JsonSchemaSubset(JsonElement root)
{
    private static readonly HashSet<string> Annotations = ["$schema", "$id", "title", "description", "$defs"];
    private static readonly HashSet<string> Supported =
        ["type", "properties", "required", "additionalProperties", "items", "minItems", "enum", "const", "minimum", "minLength", "pattern", "$ref"];

    /// <summary>Every violation, as "path: what" (empty when the instance is valid).</summary>
    public List<string> Validate(JsonElement instance)
    {
        var errors = new List<string>();
        Check(root, instance, "$", errors);
        return errors;
    }

    private void Check(JsonElement schema, JsonElement value, string path, List<string> errors)
    {
        if (schema.ValueKind == JsonValueKind.True) return;
        if (schema.ValueKind == JsonValueKind.False) { errors.Add($"{path}: no value is allowed here"); return; }
        foreach (var kw in schema.EnumerateObject())
            if (!Annotations.Contains(kw.Name) && !Supported.Contains(kw.Name))
                throw new NotSupportedException($"schema keyword '{kw.Name}' at {path} is not in the validated subset");

        if (schema.TryGetProperty("$ref", out var r)) Check(Resolve(r.GetString()!), value, path, errors);
        if (schema.TryGetProperty("type", out var type) && !TypeMatches(type, value))
        {
            errors.Add($"{path}: {Kind(value)} is not of type {type.GetRawText()}");
            return;
        }
        if (schema.TryGetProperty("const", out var c) && !JsonElement.DeepEquals(c, value)) errors.Add($"{path}: {value.GetRawText()} is not {c.GetRawText()}");
        if (schema.TryGetProperty("enum", out var e) && !e.EnumerateArray().Any(x => JsonElement.DeepEquals(x, value)))
            errors.Add($"{path}: {value.GetRawText()} is not one of {e.GetRawText()}");

        switch (value.ValueKind)
        {
            case JsonValueKind.Number when schema.TryGetProperty("minimum", out var min) && value.GetDouble() < min.GetDouble():
                errors.Add($"{path}: {value.GetRawText()} is below the minimum {min.GetRawText()}");
                break;
            case JsonValueKind.String:
                string s = value.GetString()!;
                if (schema.TryGetProperty("minLength", out var ml) && s.Length < ml.GetInt32()) errors.Add($"{path}: \"{s}\" is shorter than {ml.GetInt32()}");
                if (schema.TryGetProperty("pattern", out var pat) && !Regex.IsMatch(s, pat.GetString()!)) errors.Add($"{path}: \"{s}\" does not match {pat.GetString()}");
                break;
            case JsonValueKind.Array:
                if (schema.TryGetProperty("minItems", out var mi) && value.GetArrayLength() < mi.GetInt32()) errors.Add($"{path}: fewer than {mi.GetInt32()} items");
                if (schema.TryGetProperty("items", out var items))
                {
                    int i = 0;
                    foreach (var item in value.EnumerateArray()) Check(items, item, $"{path}[{i++}]", errors);
                }
                break;
            case JsonValueKind.Object:
                if (schema.TryGetProperty("required", out var req))
                    foreach (var name in req.EnumerateArray())
                        if (!value.TryGetProperty(name.GetString()!, out _)) errors.Add($"{path}: missing required '{name.GetString()}'");
                schema.TryGetProperty("properties", out var props);
                schema.TryGetProperty("additionalProperties", out var extra);
                foreach (var p in value.EnumerateObject())
                {
                    if (props.ValueKind == JsonValueKind.Object && props.TryGetProperty(p.Name, out var ps)) Check(ps, p.Value, $"{path}.{p.Name}", errors);
                    else if (extra.ValueKind != JsonValueKind.Undefined) Check(extra, p.Value, $"{path}.{p.Name}", errors);
                }
                break;
        }
    }

    private JsonElement Resolve(string reference)
    {
        const string prefix = "#/$defs/";
        if (!reference.StartsWith(prefix, StringComparison.Ordinal)) throw new NotSupportedException($"$ref '{reference}' is not a local #/$defs/ reference");
        return root.GetProperty("$defs").GetProperty(reference[prefix.Length..]);
    }

    private static bool TypeMatches(JsonElement type, JsonElement value) =>
        type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Any(t => Is(t.GetString()!, value)) : Is(type.GetString()!, value);

    private static bool Is(string type, JsonElement v) => type switch
    {
        "object" => v.ValueKind == JsonValueKind.Object,
        "array" => v.ValueKind == JsonValueKind.Array,
        "string" => v.ValueKind == JsonValueKind.String,
        "number" => v.ValueKind == JsonValueKind.Number,
        "integer" => v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && d == Math.Floor(d),
        "boolean" => v.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => v.ValueKind == JsonValueKind.Null,
        _ => throw new NotSupportedException($"type '{type}'"),
    };

    private static string Kind(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.True or JsonValueKind.False => "boolean",
        var k => k.ToString().ToLowerInvariant(),
    };
}
