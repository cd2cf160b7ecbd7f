using System.Text;

namespace LayerDiffusion.Native.Imaging.Png;

/// <summary>Parses the three text chunks. A malformed one is skipped: text is ancillary and must not cost the image.</summary>
internal static class PngText
{
    public static bool TryParse(string type, ReadOnlySpan<byte> body, int limit, out KeyValuePair<string, string> entry)
    {
        entry = default;
        int nul = body.IndexOf((byte)0);
        if (nul is < 1 or > 79) return false;
        string key = Encoding.Latin1.GetString(body[..nul]);
        var rest = body[(nul + 1)..];
        try
        {
            switch (type)
            {
                case "tEXt":
                    entry = new(key, Encoding.Latin1.GetString(rest));
                    return true;
                case "zTXt":
                    if (rest.Length < 1 || rest[0] != 0) return false;
                    entry = new(key, Encoding.Latin1.GetString(PngReader.Inflate(rest[1..].ToArray(), limit)));
                    return true;
                default: // iTXt
                    if (rest.Length < 2) return false;
                    bool compressed = rest[0] == 1;
                    if (rest[0] > 1 || rest[1] != 0) return false;
                    var tail = rest[2..];
                    int lang = tail.IndexOf((byte)0);
                    if (lang < 0) return false;
                    tail = tail[(lang + 1)..];
                    int translated = tail.IndexOf((byte)0);
                    if (translated < 0) return false;
                    var textBytes = tail[(translated + 1)..];
                    var raw = compressed ? PngReader.Inflate(textBytes.ToArray(), limit) : textBytes.ToArray();
                    entry = new(key, new UTF8Encoding(false, true).GetString(raw));
                    return true;
            }
        }
        catch (Exception e) when (e is InvalidDataException or DecoderFallbackException)
        {
            return false;
        }
    }
}
