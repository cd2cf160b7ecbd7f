namespace LayerDiffusion.Native.Imaging.Png;

/// <summary>The five PNG row filters' shared pieces (ISO 15948 §9).</summary>
internal static class PngFilters
{
    /// <summary>The Paeth predictor: whichever of left, up, upper-left is closest to left + up − upper-left.</summary>
    public static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }

    /// <summary>Reverses filter <paramref name="type"/> on one row in place, given the previous (already unfiltered) row.</summary>
    public static bool Unfilter(byte type, Span<byte> row, ReadOnlySpan<byte> prev, int bpp)
    {
        switch (type)
        {
            case 0:
                return true;
            case 1:
                for (int i = bpp; i < row.Length; i++) row[i] += row[i - bpp];
                return true;
            case 2:
                for (int i = 0; i < row.Length; i++) row[i] += prev[i];
                return true;
            case 3:
                for (int i = 0; i < row.Length; i++)
                    row[i] += (byte)(((i >= bpp ? row[i - bpp] : 0) + prev[i]) >> 1);
                return true;
            case 4:
                for (int i = 0; i < row.Length; i++)
                    row[i] += (byte)Paeth(i >= bpp ? row[i - bpp] : 0, prev[i], i >= bpp ? prev[i - bpp] : 0);
                return true;
            default:
                return false;
        }
    }
}
