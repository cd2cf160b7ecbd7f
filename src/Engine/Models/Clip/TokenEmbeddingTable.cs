using LayerDiffusion.Native.IO;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>
/// The token embedding kept on the host in its stored dtype (fp16 for real checkpoints: 126 MB for bigG instead of
/// 253 MB as fp32); a lookup widens only the rows a prompt uses. The gather is host work on every backend.
/// </summary>
internal sealed class TokenEmbeddingTable
{
    private readonly byte[] _data;
    private readonly DType _dtype;
    private readonly int _rowBytes;
    private readonly string _file, _key;

    public TokenEmbeddingTable(SafeTensorsFile file, string key)
    {
        var info = file.Info(key);
        if (info.Shape.Length != 2) throw new ModelFormatException(file.Path, key, $"has shape {Shape.Format(info.Shape)}, expected [vocab, width]");
        if (!DTypes.IsFloat(info.DType)) throw new ModelFormatException(file.Path, key, $"is {DTypes.Name(info.DType)}, expected a float tensor");
        VocabSize = info.Shape[0];
        Width = info.Shape[1];
        _dtype = info.DType;
        _data = file.Bytes(info).ToArray();
        _rowBytes = _data.Length / VocabSize;
        _file = file.Path;
        _key = key;
    }

    public int VocabSize { get; }
    public int Width { get; }

    /// <summary>Rows of <paramref name="ids"/>, [ids.Length, Width] row-major.</summary>
    public float[] Gather(ReadOnlySpan<int> ids)
    {
        var result = new float[ids.Length * Width];
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)VocabSize)
                throw new LdException($"token id {id} is outside the text encoder's vocabulary of {VocabSize} ({_file}: {_key}); the tokenizer does not belong to this checkpoint");
            var row = result.AsSpan(i * Width, Width);
            IO.Convert.ToFloat32(_data.AsSpan(id * _rowBytes, _rowBytes), _dtype, row);
            foreach (float v in row)
                if (!float.IsFinite(v)) throw new ModelFormatException(_file, _key, $"row {id} holds a non-finite value");
        }
        return result;
    }
}
