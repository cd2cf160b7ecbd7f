namespace LayerDiffusion.Native.Text;

/// <summary>
/// GPT-2/CLIP's reversible byte → printable character table (bytes_to_unicode): printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100 upwards. The order of <see cref="Symbols"/> is CLIP's vocabulary order.
/// </summary>
internal static class ByteUnicode
{
    /// <summary>The 256 symbols in bytes_to_unicode's insertion order (ids 0..255 of the CLIP vocabulary).</summary>
    public static readonly char[] Symbols;

    /// <summary>Character of each byte value.</summary>
    public static readonly char[] OfByte;

    static ByteUnicode()
    {
        var printable = new List<int>();
        for (int b = '!'; b <= '~'; b++) printable.Add(b);
        for (int b = '¡'; b <= '¬'; b++) printable.Add(b);
        for (int b = '®'; b <= 'ÿ'; b++) printable.Add(b);
        var bytes = new List<int>(printable);
        var chars = new List<int>(printable);
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            if (printable.Contains(b)) continue;
            bytes.Add(b);
            chars.Add(256 + n++);
        }
        OfByte = new char[256];
        Symbols = new char[256];
        for (int i = 0; i < 256; i++)
        {
            OfByte[bytes[i]] = (char)chars[i];
            Symbols[i] = (char)chars[i];
        }
    }
}
