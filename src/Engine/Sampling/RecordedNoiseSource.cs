namespace LayerDiffusion.Native.Sampling;

/// <summary>Replays given draws in order (tests and golden cases that pin the per-step noise).</summary>
public sealed class RecordedNoiseSource(IReadOnlyList<float[]> draws) : INoiseSource
{
    private int _next;

    public int Used => _next;

    public float[] Next()
    {
        if (_next >= draws.Count) throw new InvalidOperationException($"recorded noise exhausted after {draws.Count} draws");
        return (float[])draws[_next++].Clone();
    }

    /// <summary>Splits a [K, …] tensor of K recorded draws into K arrays.</summary>
    public static RecordedNoiseSource FromStacked(float[] stacked, int draws)
    {
        if (draws < 1 || stacked.Length % draws != 0) throw new ArgumentException($"{stacked.Length} values do not split into {draws} draws");
        int size = stacked.Length / draws;
        var list = new float[draws][];
        for (int k = 0; k < draws; k++) list[k] = stacked.AsSpan(k * size, size).ToArray();
        return new RecordedNoiseSource(list);
    }
}
