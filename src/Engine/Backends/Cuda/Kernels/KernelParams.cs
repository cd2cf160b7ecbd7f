using System.Text.RegularExpressions;

namespace LayerDiffusion.Native.Backends.Cuda.Kernels;

/// <summary>
/// Where each parameter of a kernel sits in its packed argument struct (natural alignment, as the CUDA ABI and a C#
/// sequential struct both lay them out), read off the <c>.entry</c> declarations of the embedded PTX. A launch hands
/// the driver one pointer per parameter at these offsets; <see cref="Size"/> (the end of the last parameter) is
/// checked against the struct's size, so a struct that is out of step with its kernel fails with the kernel's name.
/// </summary>
internal sealed partial record KernelParams(int[] Offsets, int Size)
{
    /// <summary>Whether an argument struct of <paramref name="bytes"/> bytes holds this parameter block (plus at most tail padding).</summary>
    public bool Fits(int bytes) => bytes >= Size && bytes - Size < 8;

    /// <summary>Every entry of a PTX module by name.</summary>
    public static Dictionary<string, KernelParams> Parse(string ptx)
    {
        var result = new Dictionary<string, KernelParams>(StringComparer.Ordinal);
        foreach (Match entry in EntryRegex().Matches(ptx))
        {
            var offsets = new List<int>();
            int end = 0;
            foreach (Match p in ParamRegex().Matches(entry.Groups[2].Value))
            {
                var (size, align) = p.Groups["bytes"].Success
                    ? (int.Parse(p.Groups["bytes"].Value), p.Groups["align"].Success ? int.Parse(p.Groups["align"].Value) : 1)
                    : p.Groups["type"].Value switch { "64" => (8, 8), "32" => (4, 4), "16" => (2, 2), _ => (1, 1) };
                int at = (end + align - 1) / align * align;
                offsets.Add(at);
                end = at + size;
            }
            result[entry.Groups[1].Value] = new KernelParams(offsets.ToArray(), end);
        }
        return result;
    }

    [GeneratedRegex(@"\.entry\s+(\w+)\s*\(([^)]*)\)")]
    private static partial Regex EntryRegex();

    [GeneratedRegex(@"\.param\s+(?:\.align\s+(?<align>\d+)\s+)?(?:\.b8\s+\w+\[(?<bytes>\d+)\]|\.[a-z](?<type>\d+)\s)")]
    private static partial Regex ParamRegex();
}
