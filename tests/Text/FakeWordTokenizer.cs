using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Tests.Text;

/// <summary>One id per whitespace-separated word ("," is the comma token), to test chunking independently of BPE.</summary>
internal sealed class FakeWordTokenizer : ITokenizer
{
    public const int Comma = 5;
    public int StartToken => 998;
    public int EndToken => 999;
    public int CommaToken => Comma;
    public int VocabSize => 1000;

    public int[] Encode(string text) =>
        text.Replace(",", " , ").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w == "," ? Comma : 10 + Math.Abs(w.GetHashCode()) % 900).ToArray();

    public static string Words(int n, string prefix = "w") => string.Join(" ", Enumerable.Range(0, n).Select(i => prefix + i));
}
