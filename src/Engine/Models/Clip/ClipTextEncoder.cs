using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>What one encoder pass gives: the penultimate hidden states [tokens, width] and, when asked, the pooled vector.</summary>
public sealed record ClipTextOutput(float[] Penultimate, float[]? Pooled, int Tokens, int Width);

/// <summary>
/// A CLIP text transformer as SDXL uses it (sdxl.md 4.1, 4.2): x = tok_emb[ids] + pos_emb; pre-LN layers with
/// causal attention; the crossattn output is the hidden state entering the last layer (no final LN); the pooled
/// output is final_LN(last layer)[argmax(ids)] (@ text_projection for OpenCLIP). Width, depth, MLP width, vocabulary
/// and context length come from tensor shapes; heads are 64 wide, as in both SDXL encoders.
/// </summary>
public sealed class ClipTextEncoder : IDisposable
{
    public const int HeadWidth = 64;

    private readonly IBackend _be;
    private readonly TokenEmbeddingTable _tokens;
    private readonly Tensor _positions;
    private readonly ClipEncoderLayer[] _layers;
    private readonly Tensor? _finalLnW, _finalLnB, _projection;

    private ClipTextEncoder(IBackend be, SafeTensorsFile file, string prefix, ClipLayout layout, bool withPooled)
    {
        _be = be;
        Layout = layout;
        var r = new ClipTensorReader(be, file, prefix);
        bool hf = layout == ClipLayout.HuggingFace;
        string tokKey = hf ? "embeddings.token_embedding.weight" : "token_embedding.weight";
        string posKey = hf ? "embeddings.position_embedding.weight" : "positional_embedding";
        string layerGroup = hf ? "encoder.layers." : "transformer.resblocks.";
        string ln1 = hf ? ".layer_norm1.weight" : ".ln_1.weight";
        string fc1 = hf ? ".mlp.fc1.weight" : ".mlp.c_fc.weight";

        _tokens = new TokenEmbeddingTable(file, r.Key(tokKey));
        Width = _tokens.Width;
        VocabSize = _tokens.VocabSize;
        if (Width % HeadWidth != 0)
            throw new ModelFormatException(file.Path, r.Key(tokKey), $"width {Width} is not a multiple of the {HeadWidth}-wide attention heads");
        Heads = Width / HeadWidth;
        MaxPositions = r.ShapeOf(posKey, 2)[0];
        _positions = r.Load(posKey, MaxPositions, Width);
        Layers = r.CountIndexed(layerGroup, ln1);
        if (Layers == 0) throw new ModelFormatException(file.Path, r.Key(layerGroup + "0" + ln1), "missing: the text encoder has no layers");
        MlpWidth = r.ShapeOf(layerGroup + "0" + fc1, 2)[0];
        HasPooled = withPooled;

        // The crossattn output never needs the last layer; load it only for the pooled output.
        int loaded = withPooled ? Layers : Layers - 1;
        _layers = new ClipEncoderLayer[loaded];
        for (int i = 0; i < loaded; i++) _layers[i] = new ClipEncoderLayer(r, layout, $"{layerGroup}{i}.", Width, MlpWidth);

        if (withPooled)
        {
            string ln = hf ? "final_layer_norm." : "ln_final.";
            _finalLnW = r.Load(ln + "weight", Width);
            _finalLnB = r.Load(ln + "bias", Width);
            if (!hf)
            {
                ProjectionWidth = r.ShapeOf("text_projection", 2)[1];
                _projection = r.Load("text_projection", Width, ProjectionWidth);
            }
            else ProjectionWidth = Width;
        }
    }

    /// <summary>CLIP ViT-L in the Hugging Face layout (SDXL: conditioner.embedders.0.transformer.text_model.), penultimate only.</summary>
    public static ClipTextEncoder LoadClipL(IBackend be, SafeTensorsFile file, string prefix = CheckpointInspector.ClipLPrefix) =>
        new(be, file, prefix, ClipLayout.HuggingFace, withPooled: false);

    /// <summary>OpenCLIP ViT-bigG in the open_clip layout (SDXL: conditioner.embedders.1.model.), with the pooled output.</summary>
    public static ClipTextEncoder LoadOpenClipG(IBackend be, SafeTensorsFile file, string prefix = CheckpointInspector.ClipGPrefix) =>
        new(be, file, prefix, ClipLayout.OpenClip, withPooled: true);

    public static ClipTextEncoder Load(IBackend be, SafeTensorsFile file, string prefix, ClipLayout layout, bool withPooled) =>
        new(be, file, prefix, layout, withPooled);

    public ClipLayout Layout { get; }
    public int Width { get; }
    public int Heads { get; }
    public int Layers { get; }
    public int MlpWidth { get; }
    public int VocabSize { get; }
    /// <summary>Longest token window the position embedding covers (77 for SDXL).</summary>
    public int MaxPositions { get; }
    public bool HasPooled { get; }
    /// <summary>Width of the pooled output (the projection's output width), 0 without pooled output.</summary>
    public int ProjectionWidth { get; }

    /// <summary>Encodes one token window (start, tokens, end, padding: positions restart at 0).</summary>
    public ClipTextOutput Encode(ReadOnlySpan<int> ids, bool pooled)
    {
        if (pooled && !HasPooled) throw new InvalidOperationException("this encoder was loaded without its pooled output");
        using var range = Profiling.Nvtx.Range("text_encoder");
        int n = ids.Length;
        if (n == 0 || n > MaxPositions) throw new LdException($"a token window of {n} ids does not fit the text encoder's {MaxPositions} positions");
        int eos = ArgMax(ids);

        using var scope = TensorScope.Open();
        var emb = _be.FromHost(_tokens.Gather(ids), 1, n, Width);
        var x = _be.Add(emb, n == MaxPositions ? _positions : _be.Slice(_positions, 0, 0, n));
        for (int i = 0; i < Layers - 1; i++)
        {
            var next = _layers[i].Forward(_be, x);
            x.Dispose();
            x = next;
        }
        return new ClipTextOutput(_be.ToHost(x), pooled ? Pool(x, eos) : null, n, Width);
    }

    /// <summary>final_LN(last layer output)[eos] (@ P). LN is per token, so only the eos row goes through it.</summary>
    private float[] Pool(Tensor penultimate, int eos)
    {
        var last = _layers[^1].Forward(_be, penultimate);
        var normed = _be.LayerNorm(_be.Slice(last, 1, eos, 1), _finalLnW!, _finalLnB!, ClipEncoderLayer.LayerNormEps);
        if (_projection is null) return _be.ToHost(normed);
        return _be.ToHost(_be.MatMul(_be.Reshape(normed, 1, Width), _projection));
    }

    /// <summary>SGM/OpenCLIP find the end token as argmax(ids): the first end token, the largest id in the window.</summary>
    private static int ArgMax(ReadOnlySpan<int> ids)
    {
        int best = 0;
        for (int i = 1; i < ids.Length; i++) if (ids[i] > ids[best]) best = i;
        return best;
    }

    public void Dispose()
    {
        _positions.Dispose();
        foreach (var l in _layers) l.Dispose();
        _finalLnW?.Dispose();
        _finalLnB?.Dispose();
        _projection?.Dispose();
    }
}
