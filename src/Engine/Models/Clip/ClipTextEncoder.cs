using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>What one encoder pass gives: the crossattn features [tokens, width] and, when asked, the pooled vector.</summary>
public sealed record ClipTextOutput(float[] Hidden, float[]? Pooled, int Tokens, int Width);

/// <summary>
/// A CLIP text transformer (sdxl.md 4.1, 4.2): x = tok_emb[ids] + pos_emb; pre-LN layers with causal attention. Which
/// hidden state is the crossattn output, whether the final LN applies to it and whether the encoder gives the pooled
/// output (final_LN(last layer)[argmax(ids)], @ text_projection in the OpenCLIP layout) is the family's
/// <see cref="TextEncoderSpec"/>; width, depth, MLP width, vocabulary and context length come from tensor shapes, and
/// the key layout (Hugging Face or OpenCLIP) from the keys.
/// </summary>
public sealed class ClipTextEncoder : IDisposable
{
    private readonly IBackend _be;
    private readonly TokenEmbeddingTable _tokens;
    private readonly Tensor _positions;
    private readonly ClipEncoderLayer[] _layers;
    private readonly Tensor? _finalLnW, _finalLnB, _projection;

    private ClipTextEncoder(IBackend be, SafeTensorsFile file, TextEncoderSpec spec)
    {
        _be = be;
        Spec = spec;
        var r = new ClipTensorReader(be, file, spec.Prefix);
        var layout = Layout = r.Has("embeddings.token_embedding.weight") ? ClipLayout.HuggingFace : ClipLayout.OpenClip;
        bool hf = layout == ClipLayout.HuggingFace;
        string tokKey = hf ? "embeddings.token_embedding.weight" : "token_embedding.weight";
        string posKey = hf ? "embeddings.position_embedding.weight" : "positional_embedding";
        string layerGroup = hf ? "encoder.layers." : "transformer.resblocks.";
        string ln1 = hf ? ".layer_norm1.weight" : ".ln_1.weight";
        string fc1 = hf ? ".mlp.fc1.weight" : ".mlp.c_fc.weight";

        _tokens = new TokenEmbeddingTable(file, r.Key(tokKey));
        Width = _tokens.Width;
        VocabSize = _tokens.VocabSize;
        Heads = spec.Heads.For(Width)
            ?? throw new ModelFormatException(file.Path, r.Key(tokKey), $"width {Width} does not split into {spec.Name}'s attention heads ({spec.Heads})");
        MaxPositions = r.ShapeOf(posKey, 2)[0];
        _positions = r.Load(posKey, MaxPositions, Width);
        Layers = r.CountIndexed(layerGroup, ln1);
        if (Layers <= spec.SkipLast) throw new ModelFormatException(file.Path, r.Key(layerGroup + "0" + ln1), $"missing: {spec.Name} has {Layers} layers, it needs more than {spec.SkipLast}");
        MlpWidth = r.ShapeOf(layerGroup + "0" + fc1, 2)[0];

        // Layers past the crossattn output are needed only for the pooled output.
        int loaded = spec.Pooled ? Layers : Layers - spec.SkipLast;
        _layers = new ClipEncoderLayer[loaded];
        for (int i = 0; i < loaded; i++) _layers[i] = new ClipEncoderLayer(r, layout, $"{layerGroup}{i}.", Width, MlpWidth, Heads);

        if (spec.FinalNorm || spec.Pooled)
        {
            string ln = hf ? "final_layer_norm." : "ln_final.";
            _finalLnW = r.Load(ln + "weight", Width);
            _finalLnB = r.Load(ln + "bias", Width);
        }
        // OpenCLIP projects the pooled output (x @ P); the Hugging Face CLIPTextModel has no projection.
        ProjectionWidth = spec.Pooled ? Width : 0;
        if (spec.Pooled && !hf)
        {
            ProjectionWidth = r.ShapeOf("text_projection", 2)[1];
            _projection = r.Load("text_projection", Width, ProjectionWidth);
        }
    }

    /// <summary>Loads the encoder a family's spec describes (its key layout read from the keys).</summary>
    public static ClipTextEncoder Load(IBackend be, SafeTensorsFile file, TextEncoderSpec spec) => new(be, file, spec);

    public TextEncoderSpec Spec { get; }
    public ClipLayout Layout { get; }
    public int Width { get; }
    public int Heads { get; }
    public int Layers { get; }
    public int MlpWidth { get; }
    public int VocabSize { get; }
    /// <summary>Longest token window the position embedding covers (77 for SDXL).</summary>
    public int MaxPositions { get; }
    public bool HasPooled => Spec.Pooled;
    /// <summary>Width of the pooled output (the projection's output width), 0 without pooled output.</summary>
    public int ProjectionWidth { get; }

    /// <summary>Encodes one token window (start, tokens, end, padding: positions restart at 0).</summary>
    public ClipTextOutput Encode(ReadOnlySpan<int> ids, bool pooled)
    {
        if (pooled && !HasPooled) throw new InvalidOperationException($"{Spec.Name} gives no pooled output");
        using var range = Profiling.Nvtx.Range("text_encoder");
        int n = ids.Length;
        if (n == 0 || n > MaxPositions) throw new LdException($"a token window of {n} ids does not fit the text encoder's {MaxPositions} positions");
        int eos = ArgMax(ids);

        using var scope = TensorScope.Open();
        var emb = _be.FromHost(_tokens.Gather(ids), 1, n, Width);
        var x = _be.Add(emb, n == MaxPositions ? _positions : _be.Slice(_positions, 0, 0, n));
        int hiddenLayers = Layers - Spec.SkipLast;
        for (int i = 0; i < hiddenLayers; i++)
        {
            var next = _layers[i].Forward(_be, x);
            x.Dispose();
            x = next;
        }
        var hidden = Spec.FinalNorm ? _be.LayerNorm(x, _finalLnW!, _finalLnB!, ClipEncoderLayer.LayerNormEps) : x;
        return new ClipTextOutput(_be.ToHost(hidden), pooled ? Pool(x, hiddenLayers, eos) : null, n, Width);
    }

    /// <summary>
    /// final_LN(last layer output)[eos] (@ P), continuing from the crossattn layer's input. LN is per token, so only
    /// the eos row goes through it.
    /// </summary>
    private float[] Pool(Tensor x, int fromLayer, int eos)
    {
        for (int i = fromLayer; i < Layers; i++) x = _layers[i].Forward(_be, x);
        var normed = _be.LayerNorm(_be.Slice(x, 1, eos, 1), _finalLnW!, _finalLnB!, ClipEncoderLayer.LayerNormEps);
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
