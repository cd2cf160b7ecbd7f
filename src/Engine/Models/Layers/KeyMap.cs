namespace LayerDiffusion.Native.Models.Layers;

/// <summary>
/// Where a canonical key lives in a file of another key layout: the stored key and, for a tensor stored fused with
/// others along its first axis (OpenCLIP's in_proj holds q, k and v), which part of it.
/// </summary>
public readonly record struct KeyLocation(string Key, int Part = 0, int Parts = 1);

/// <summary>Canonical key → stored key (key names are normalised at load; see <see cref="WeightStore.Open"/>).</summary>
public delegate KeyLocation KeyMap(string canonical);
