using LayerDiffusion.Native.IO;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>
/// The token embedding kept on the host in its stored dtype (fp16 for real checkpoints: 126 MB for bigG instead of
/// 253 MB as fp32); a lookup widens only the rows a prompt uses. The gather is host work on every backend.
/// </summary>
internal sealed class TokenEmbeddingTable
{
    private readonly byte[] _data;
    private readonly SafeTensorInfo _info;
    private readonly string _file;

    public TokenEmbeddingTable(SafeTensorsFile file, string key)
    {
        _info = file.Info(key);
        if (_info.Shape.Length != 2)
            throw new ModelFormatException(file.Path, key, $"has shape {Shape.Format(_info.Shape)}, expected [vocab, width]");
        if (!DTypes.IsFloat(_info.DType)) throw new ModelFormatException(file.Path, key, $"is {DTypes.Name(_info.DType)}, expected a float tensor");
        _data = file.Bytes(_info).ToArray();
        _file = file.Path;
    }

    public int VocabSize => _info.Shape[0];
    public int Width => _info.Shape[1];

    /// <summary>Rows of <paramref name="ids"/>, [ids.Length, Width] row-major.</summary>
    public float[] Gather(ReadOnlySpan<int> ids)
    {
        var result = new float[ids.Length * Width];
        int rowBytes = _data.Length / VocabSize;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if ((uint)id >= (uint)VocabSize)
                throw new LdException($"token id {id} is outside the text encoder's vocabulary of {VocabSize} ({_file}: {_info.Name}); " +
                    "the tokenizer does not belong to this checkpoint");
            var row = result.AsSpan(i * Width, Width);
            IO.Convert.ToFloat32(_data.AsSpan(id * rowBytes, rowBytes), _info.DType, row);
            foreach (float v in row)
                if (!float.IsFinite(v)) throw new ModelFormatException(_file, _info.Name, $"row {id} holds a non-finite value");
        }
        return result;
    }
}
