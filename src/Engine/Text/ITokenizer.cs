namespace LayerDiffusion.Native.Text;

/// <summary>Turns prompt text into token ids for the CLIP text encoders.</summary>
public interface ITokenizer
{
    /// <summary>Ids of the text, without the start and end tokens.</summary>
    int[] Encode(string text);

    int StartToken { get; }
    int EndToken { get; }
    /// <summary>Id of ",&lt;/w&gt;" (A1111's comma backtrack looks for it), or -1 when the vocabulary has none.</summary>
    int CommaToken { get; }
    /// <summary>One more than the largest id the tokenizer can produce.</summary>
    int VocabSize { get; }
}
