namespace LayerDiffusion.Native.Models;

/// <summary>
/// How a network splits an attention width into heads: heads of a fixed width (SDXL's UNet and both its CLIPs: 64),
/// or a fixed number of heads of any width (SD1.5's UNet: 8). Exactly one of the two is set.
/// </summary>
public readonly record struct AttentionHeads(int Width, int Count)
{
    public static AttentionHeads OfWidth(int width) => new(width, 0);
    public static AttentionHeads Fixed(int count) => new(0, count);

    /// <summary>The number of heads for an attention of <paramref name="channels"/>; null when they do not divide.</summary>
    public int? For(int channels) =>
        Width > 0 ? (channels % Width == 0 && channels > 0 ? channels / Width : null)
        : Count > 0 && channels % Count == 0 && channels > 0 ? Count : null;

    public override string ToString() => Width > 0 ? $"heads {Width} wide" : $"{Count} heads";
}
