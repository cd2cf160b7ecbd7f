using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;

namespace LayerDiffusion.Native.LayerDiffusion;

public enum PatchKind { Diff, Lora }

/// <summary>
/// The patches of one UNet weight. <see cref="Target"/> is the UNet key without "diffusion_model." (the name in a
/// UNet <see cref="WeightStore"/>); <see cref="Slots"/> are the file's tensor names by slot index (null if absent).
/// diff: slot 0 = ΔW. lora: slot 0 = up [out, r], slot 1 = down [r, in], slot 2 = alpha (optional).
/// </summary>
public sealed record PatchEntry(string Target, PatchKind Kind, string?[] Slots);

/// <summary>
/// A LayerDiffusion frozen-patcher file: keys "diffusion_model.&lt;ldm key&gt;::&lt;diff|lora&gt;::&lt;slot&gt;", grouped per target
/// weight as Forge's load_frozen_patcher does (<see cref="Read"/>), or entries mapped from another key layout (a user
/// LoRA onto UNet weights) that name the file's tensors. Tensor data stays in the file until a merge reads it.
/// </summary>
/// <param name="file">The open file (not owned: whoever opened it disposes it).</param>
/// <param name="targetPrefix">How messages name a target: the UNet's "diffusion_model." key, or a text encoder's name and canonical key.</param>
public sealed class PatchFile(SafeTensorsFile file, IReadOnlyList<PatchEntry> entries, string targetPrefix = PatchFile.ModelPrefix)
{
    public const string ModelPrefix = "diffusion_model.";
    private const int MaxSlots = 16;

    public SafeTensorsFile File { get; } = file;
    public string Path => File.Path;
    /// <summary>One entry per target weight, in file order.</summary>
    public IReadOnlyList<PatchEntry> Entries { get; } = entries;

    /// <summary>The entries whose target passes <paramref name="keep"/> (same file).</summary>
    public PatchFile Only(Func<string, bool> keep) => new(File, Entries.Where(e => keep(e.Target)).ToList(), targetPrefix);

    /// <summary>Parses the key layout; throws ModelFormatException naming the first key that is not a patch key.</summary>
    public static PatchFile Read(SafeTensorsFile file)
    {
        var byTarget = new OrderedDictionary<string, (PatchKind Kind, string?[] Slots)>(StringComparer.Ordinal);
        foreach (var key in file.Names)
        {
            var parts = key.Split("::");
            if (parts.Length != 3)
                throw new ModelFormatException(file.Path, key, "is not a patch key '<model key>::<diff|lora>::<slot>'");
            var kind = parts[1] switch
            {
                "diff" => PatchKind.Diff,
                "lora" => PatchKind.Lora,
                _ => throw new ModelFormatException(file.Path, key, $"unsupported patch type '{parts[1]}' (expected diff or lora)"),
            };
            if (!int.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int slot) || slot >= MaxSlots)
                throw new ModelFormatException(file.Path, key, $"bad slot index '{parts[2]}'");
            if (!parts[0].StartsWith(ModelPrefix, StringComparison.Ordinal))
                throw new ModelFormatException(file.Path, key, $"targets '{parts[0]}', which is not a UNet weight (expected the '{ModelPrefix}' prefix)");
            if (!DTypes.IsFloat(file.Info(key).DType))
                throw new ModelFormatException(file.Path, key, $"is {DTypes.Name(file.Info(key).DType)}, expected a float tensor");
            string target = parts[0][ModelPrefix.Length..];
            if (!byTarget.TryGetValue(target, out var entry))
                byTarget.Add(target, entry = (kind, new string?[MaxSlots]));
            else if (entry.Kind != kind)
                throw new ModelFormatException(file.Path, key, $"mixes patch types on '{parts[0]}'");
            entry.Slots[slot] = key;
        }

        var entries = new List<PatchEntry>(byTarget.Count);
        foreach (var (target, (kind, slots)) in byTarget)
        {
            string first = slots.First(s => s is not null)!;
            if (slots[0] is null)
                throw new ModelFormatException(file.Path, first, $"{kind.ToString().ToLowerInvariant()} patch of '{ModelPrefix}{target}' has no slot 0");
            if (kind == PatchKind.Lora && slots[1] is null)
                throw new ModelFormatException(file.Path, first, $"lora patch of '{ModelPrefix}{target}' has no down matrix (slot 1)");
            int used = kind == PatchKind.Lora ? 3 : 1;
            for (int i = used; i < MaxSlots; i++)
                if (slots[i] is not null)
                    throw new ModelFormatException(file.Path, slots[i], $"slot {i} of a {kind.ToString().ToLowerInvariant()} patch is not supported");
            entries.Add(new PatchEntry(target, kind, slots[..used]));
        }
        if (entries.Count == 0) throw new ModelFormatException(file.Path, null, "holds no patch tensors");
        return new PatchFile(file, entries);
    }

    /// <summary>
    /// Checks every entry against the UNet's weights: the target must exist and the patch must fit its shape.
    /// The one allowed growth is a diff on the input conv with more input channels (concat-conditioned layer
    /// models). Throws ModelFormatException naming the first offending key, in file order.
    /// </summary>
    public void Validate(WeightStore unet)
    {
        foreach (var e in Entries)
            ValidateEntry(e, unet.ShapeOf(e.Target) ?? throw new ModelFormatException(Path, e.Slots[0],
                $"targets '{ModelPrefix}{e.Target}', which the UNet ({unet.Source}) does not have"));
    }

    /// <summary>Checks one entry against the shape of the weight it patches.</summary>
    public void ValidateEntry(PatchEntry e, int[] w)
    {
        if (e.Kind == PatchKind.Diff) ValidateDiff(e, w);
        else ValidateLora(e, w);
    }

    /// <summary>The UNet weight whose diff may add input channels: the first conv, widened for concat latents.</summary>
    public const string InputConvKey = "input_blocks.0.0.weight";

    /// <summary>True when <paramref name="delta"/> widens the input conv <paramref name="weight"/> along its input channels.</summary>
    public static bool IsInputGrowth(string target, int[] weight, int[] delta) =>
        target == InputConvKey && weight.Length == 4 && delta.Length == 4 &&
        delta[0] == weight[0] && delta[1] > weight[1] && delta[2] == weight[2] && delta[3] == weight[3];

    private void ValidateDiff(PatchEntry e, int[] w)
    {
        var d = File.Info(e.Slots[0]!).Shape;
        if (Shape.Equal(d, w) || IsInputGrowth(e.Target, w, d)) return;
        throw new ModelFormatException(Path, e.Slots[0], $"diff has shape {Shape.Format(d)} but '{targetPrefix}{e.Target}' is {Shape.Format(w)}");
    }

    private void ValidateLora(PatchEntry e, int[] w)
    {
        var up = File.Info(e.Slots[0]!).Shape;
        var down = File.Info(e.Slots[1]!).Shape;
        bool upOk = up.Length == 2 || (up.Length == 4 && up[2] == 1 && up[3] == 1);
        if (!upOk || up[0] != w[0])
            throw new ModelFormatException(Path, e.Slots[0], $"lora up has shape {Shape.Format(up)}, expected [{w[0]}, rank] for '{targetPrefix}{e.Target}' {Shape.Format(w)}");
        int rank = up[1];
        if (down.Length < 2 || down[0] != rank || Shape.Count(down.AsSpan(1)) != Shape.Count(w.AsSpan(1)))
            throw new ModelFormatException(Path, e.Slots[1], $"lora down has shape {Shape.Format(down)}, expected [{rank}, {string.Join(", ", w[1..])}] for '{targetPrefix}{e.Target}' {Shape.Format(w)}");
        if (e.Slots[2] is { } alpha && File.Info(alpha).ElementCount != 1)
            throw new ModelFormatException(Path, alpha, $"lora alpha has shape {Shape.Format(File.Info(alpha).Shape)}, expected a scalar");
    }
}
