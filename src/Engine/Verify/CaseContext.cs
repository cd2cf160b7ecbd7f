using System.Text.Json;
using LayerDiffusion.Native.IO;

namespace LayerDiffusion.Native.Verify;

/// <summary>
/// What a case runner may see: the case's declared inputs, its settings and its declared weight files, nothing
/// else. Reading an undeclared tensor (an output, another case's data) throws, so a runner cannot pass by
/// echoing the reference.
/// </summary>
public sealed class CaseContext : IDisposable
{
    private readonly SafeTensorsFile? _data;
    private readonly Dictionary<string, SafeTensorsFile> _weights = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Array> _emitted = new(StringComparer.Ordinal);

    public CaseContext(GoldenCase @case, GoldenManifest manifest, IBackend backend)
    {
        Case = @case;
        Manifest = manifest;
        Backend = backend;
        if (@case.File is not null && @case.Inputs.Count > 0) _data = SafeTensorsFile.Open(@case.FilePath);
    }

    public GoldenCase Case { get; }
    public GoldenManifest Manifest { get; }
    public IBackend Backend { get; }
    public JsonElement Settings => Case.Settings;
    public IReadOnlyDictionary<string, Array> Emitted => _emitted;

    private SafeTensorsFile InputFile(string name)
    {
        if (!Case.Inputs.Contains(name)) throw new InvalidOperationException($"case {Case.Name}: '{name}' is not a declared input");
        return _data ?? throw new InvalidOperationException($"case {Case.Name} has no input file");
    }

    public float[] InputF32(string name) => InputFile(name).ReadFloat32(name);
    public long[] InputI64(string name) => InputFile(name).ReadInt64(name);
    public byte[] InputU8(string name) => InputFile(name).ReadBytesU8(name);
    public int[] InputShape(string name) => InputFile(name).Info(name).Shape;

    /// <summary>A declared float input uploaded with its stored shape (to the case's backend unless another is named).</summary>
    public Tensor InputTensor(string name, IBackend? on = null) => (on ?? Backend).FromHost(InputF32(name), InputShape(name));

    /// <summary>Path of a file the case declares in 'uses' (a weights case name, or a relative path like the vocab).</summary>
    public string UsesPath(string use)
    {
        if (!Case.Uses.Contains(use)) throw new InvalidOperationException($"case {Case.Name} does not declare '{use}' in uses");
        var weights = Manifest.Find(use);
        if (weights is not null) return weights.FilePath;
        return Path.GetFullPath(Path.Combine(Manifest.Directory, use));
    }

    /// <summary>The first declared use whose file name ends with the given suffix (e.g. the vocab).</summary>
    public string? UsesPathEndingWith(string suffix) =>
        Case.Uses.Where(u => u.EndsWith(suffix, StringComparison.Ordinal)).Select(UsesPath).FirstOrDefault();

    public SafeTensorsFile Weights(string use)
    {
        if (!_weights.TryGetValue(use, out var f)) _weights[use] = f = SafeTensorsFile.Open(UsesPath(use));
        return f;
    }

    /// <summary>
    /// The declared weight file that satisfies a test, found by content rather than by name, so a golden set whose
    /// weight files are named differently runs unchanged. NotSupported (SKIP) when no declared file matches.
    /// </summary>
    public string WeightsPathWhere(Func<SafeTensorsFile, bool> matches, string what)
    {
        foreach (var use in Case.Uses)
        {
            if (Manifest.Find(use) is not { Kind: "weights" }) continue;
            if (matches(Weights(use))) return UsesPath(use);
        }
        throw new NotSupportedException($"none of the declared weight files holds {what}");
    }

    public SafeTensorsFile WeightsWhere(Func<SafeTensorsFile, bool> matches, string what)
    {
        foreach (var use in Case.Uses)
            if (Manifest.Find(use) is { Kind: "weights" } && matches(Weights(use))) return Weights(use);
        throw new NotSupportedException($"none of the declared weight files holds {what}");
    }

    public SafeTensorsFile WeightsHolding(string tensor) => WeightsWhere(f => f.Contains(tensor), $"tensor '{tensor}'");

    /// <summary>The tensor that marks a declared file as an SDXL checkpoint with a UNet.</summary>
    public const string UnetMarker = Models.Unet.SdxlUnet.CheckpointPrefix + "input_blocks.0.0.weight";

    /// <summary>The declared SDXL checkpoint (the file holding a UNet).</summary>
    public SafeTensorsFile Checkpoint => WeightsHolding(UnetMarker);

    public bool Wants(string output) => Case.Outputs.Any(o => o.Name == output);

    public void Emit(string output, float[] value) => EmitArray(output, value);
    public void Emit(string output, long[] value) => EmitArray(output, value);
    public void Emit(string output, byte[] value) => EmitArray(output, value);

    private void EmitArray(string output, Array value)
    {
        if (!Wants(output)) throw new InvalidOperationException($"case {Case.Name}: '{output}' is not a declared output");
        _emitted[output] = value;
    }

    public void Dispose()
    {
        _data?.Dispose();
        foreach (var f in _weights.Values) f.Dispose();
    }
}
