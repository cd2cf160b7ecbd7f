using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Models.Layers;

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
    public const float LayerNormEps = 1e-5f;

    private readonly IBackend _be;
    private readonly WeightStore? _weights;
    private readonly TokenEmbeddingTable? _tokens;
    private readonly Tensor _positions;
    private readonly TransformerBlock[] _layers;
    private readonly LayerNorm _finalNorm;
    private readonly Tensor? _projection;

    /// <summary>
    /// Builds the encoder from any weight source in the canonical naming: a file (through <see cref="ClipConfig.Keys"/>)
    /// or a <see cref="LayoutRecorder"/>. Everything the file format stores is declared; only what the spec uses is
    /// loaded (the crossattn output never needs the layers after it unless the encoder pools).
    /// </summary>
    public ClipTextEncoder(WeightSource vs, ClipConfig config, TextEncoderSpec spec)
    {
        _be = vs.Backend;
        _weights = vs as WeightStore;
        Config = config;
        Spec = spec;
        int width = config.Width;
        int heads = spec.Heads.For(width)
            ?? throw vs.Error(ClipConfig.TokenEmbedding, $"width {width} does not split into {spec.Name}'s attention heads ({spec.Heads})");
        if (config.Layers <= spec.SkipLast)
            throw vs.Error("encoder.layers.0.layer_norm1.weight", $"missing: {spec.Name} has {config.Layers} layers, it needs more than {spec.SkipLast}");

        // The token embedding stays on the host in its stored dtype (see TokenEmbeddingTable).
        vs.Declare(ClipConfig.TokenEmbedding, ParamKind.Embedding, config.VocabSize, width);
        if (_weights is not null) _tokens = new TokenEmbeddingTable(_weights.File!, _weights.Key(ClipConfig.TokenEmbedding));
        _positions = vs.Get("embeddings.position_embedding.weight", ParamKind.Embedding, config.Positions, width);
        if (!config.OpenClip) vs.Declare("embeddings.position_ids", ParamKind.Index, 1, config.Positions);

        var layerSpec = new TransformerSpec(TransformerNames.Clip, AttentionNames.Clip, width, ContextDim: 0, heads, QkvBias: true, Causal: true,
            FeedForwardNames.Clip, config.Activation, config.MlpWidth, LayerNormEps);
        int loaded = spec.Pooled ? config.Layers : config.Layers - spec.SkipLast;
        _layers = Enumerable.Range(0, config.Layers).Select(i => new TransformerBlock(vs.Pp($"encoder.layers.{i}").LoadedIf(i < loaded), layerSpec)).ToArray()[..loaded];
        _finalNorm = new LayerNorm(vs.Pp("final_layer_norm").LoadedIf(spec.FinalNorm || spec.Pooled), width, LayerNormEps);
        if (config.OpenClip)
        {
            // OpenCLIP projects the pooled output (x @ P); the Hugging Face CLIPTextModel has no projection.
            _projection = vs.LoadedIf(spec.Pooled).Get("text_projection", ParamKind.Weight, width, config.ProjectionWidth);
            vs.Declare("logit_scale", ParamKind.Scalar, 1);
        }
    }

    /// <summary>
    /// Loads the encoder a family's spec describes from a single-file checkpoint (its key layout read from the keys),
    /// with the text-encoder modules of user LoRAs under <paramref name="kohyaPrefix"/> merged into its projections.
    /// </summary>
    public static ClipTextEncoder Load(IBackend be, SafeTensorsFile file, TextEncoderSpec spec, IReadOnlyList<Lora.TextLora>? loras = null, string kohyaPrefix = "")
    {
        var config = ClipConfig.Infer(file, spec.Prefix);
        var merge = loras is { Count: > 0 } ? Lora.TextEncoderLoras.Merger(be, loras, kohyaPrefix, config.Layers, spec.Name) : null;
        var vs = WeightStore.Open(be, file, spec.Prefix, config.Keys, merge);
        try { return new ClipTextEncoder(vs, config, spec); }
        catch { vs.DisposeLoaded(); throw; }
    }

    public ClipConfig Config { get; }
    public TextEncoderSpec Spec { get; }
    public int Width => Config.Width;
    /// <summary>Width of the pooled output (the projection's output width), 0 without pooled output.</summary>
    public int ProjectionWidth => !Spec.Pooled ? 0 : Config.OpenClip ? Config.ProjectionWidth : Width;

    /// <summary>Encodes one token window (start, tokens, end, padding: positions restart at 0).</summary>
    public ClipTextOutput Encode(ReadOnlySpan<int> ids, bool pooled)
    {
        if (pooled && !Spec.Pooled) throw new InvalidOperationException($"{Spec.Name} gives no pooled output");
        using var range = Profiling.Nvtx.Range("text_encoder");
        int n = ids.Length;
        if (n == 0 || n > Config.Positions)
            throw new LdException($"a token window of {n} ids does not fit the text encoder's {Config.Positions} positions");
        // SGM/OpenCLIP find the end token as argmax(ids): the first end token, the largest id in the window.
        int eos = ids.IndexOf(ids.ToArray().Max());

        using var scope = TensorScope.Open();
        var emb = _be.FromHost(_tokens!.Gather(ids), 1, n, Width);
        int hiddenLayers = Config.Layers - Spec.SkipLast;
        var layers = _layers[..hiddenLayers].Select(layer => (Func<Tensor, Tensor>)(h => layer.Forward(_be, h)));
        var x = TensorScope.Chain(emb, [h => _be.Add(h, n == Config.Positions ? _positions : _be.Slice(_positions, 0, 0, n)), .. layers]);
        var hidden = Spec.FinalNorm ? _finalNorm.Forward(_be, x) : x;
        return new ClipTextOutput(_be.ToHost(hidden), pooled ? Pool(x, hiddenLayers, eos) : null, n, Width);
    }

    /// <summary>
    /// final_LN(last layer output)[eos] (@ P), continuing from the crossattn layer's input. LN is per token, so only
    /// the eos row goes through it.
    /// </summary>
    private float[] Pool(Tensor x, int fromLayer, int eos)
    {
        for (int i = fromLayer; i < Config.Layers; i++) x = _layers[i].Forward(_be, x);
        var normed = _finalNorm.Forward(_be, _be.Slice(x, 1, eos, 1));
        return _be.ToHost(_projection is null ? normed : _be.MatMul(_be.Reshape(normed, 1, Width), _projection));
    }

    public void Dispose() => _weights?.DisposeLoaded();
}
