using System.Text;

namespace LayerDiffusion.Native.Text;

/// <summary>
/// A file-free tokenizer for the CLI's --demo mode: each UTF-8 byte b becomes id 1 + b (folded into the
/// vocabulary when it is small), start = vocabSize - 2, end = vocabSize - 1 (the largest id, so the pooled
/// output's argmax finds it). Deterministic; not meant to produce meaningful images.
/// </summary>
public sealed class ByteLevelTokenizer : ITokenizer
{
    public ByteLevelTokenizer(int vocabSize)
    {
        if (vocabSize < 4) throw new InvalidOptionException("vocab size", $"{vocabSize} is too small for a byte-level tokenizer (needs at least 4)");
        VocabSize = vocabSize;
        StartToken = vocabSize - 2;
        EndToken = vocabSize - 1;
        CommaToken = IdOf((byte)',');
    }

    public int StartToken { get; }
    public int EndToken { get; }
    public int CommaToken { get; }
    public int VocabSize { get; }

    public int[] Encode(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var ids = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) ids[i] = IdOf(bytes[i]);
        return ids;
    }

    /// <summary>Ids 1..256 when they fit below the two specials, else folded into 1..vocabSize-3.</summary>
    private int IdOf(byte b) => 1 + b % Math.Min(256, VocabSize - 3);
}
