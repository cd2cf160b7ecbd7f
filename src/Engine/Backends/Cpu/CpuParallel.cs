namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// Parallel loops sized by work: the tiny golden models issue thousands of ops on a few thousand elements each,
/// where a Parallel.For per row costs more than the arithmetic. Items are split into at most a few contiguous
/// ranges per core, and run inline when the whole loop is small. Each item's arithmetic is unchanged.
/// </summary>
internal static class CpuParallel
{
    /// <summary>Below about this many elementary operations a parallel loop costs more than it saves.</summary>
    private const long MinWorkPerChunk = 1 << 15;

    /// <param name="count">number of items</param>
    /// <param name="workPerItem">rough cost of one item (elements touched)</param>
    /// <param name="range">runs items [start, end)</param>
    public static void For(int count, long workPerItem, Action<int, int> range)
    {
        if (count <= 0) return;
        long total = count * Math.Max(1, workPerItem);
        int chunks = (int)Math.Min(count, Math.Min(Environment.ProcessorCount * 4L, total / MinWorkPerChunk));
        if (chunks <= 1)
        {
            range(0, count);
            return;
        }
        Parallel.For(0, chunks, c => range((int)((long)count * c / chunks), (int)((long)count * (c + 1) / chunks)));
    }
}
