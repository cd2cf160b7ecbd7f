using LayerDiffusion.Native.IO;

namespace LayerDiffusion.Native.Models.Layers;

/// <summary>The role a layer gives a tensor it asks for: recorded into layouts, so synthetic weights get sensible magnitudes.</summary>
public enum ParamKind { Weight, Bias, NormWeight, NormBias, Embedding, Index, Scalar }

/// <summary>
/// Where a canonical key lives in a file of another key layout: the stored key and, for a tensor stored fused with
/// others along its first axis (OpenCLIP's in_proj holds q, k and v), which part of it.
/// </summary>
public readonly record struct KeyLocation(string Key, int Part = 0, int Parts = 1);

/// <summary>Canonical key → stored key (key names are normalised at load; see <see cref="WeightStore.Open"/>).</summary>
public delegate KeyLocation KeyMap(string canonical);

/// <summary>
/// A network's weights seen from one block (candle's VarBuilder): <c>vs.Pp("norm1").Get("weight", ...)</c> asks for
/// "norm1.weight" under the block's prefix. Layers take their tensors from a source with the exact shape the
/// architecture needs, so a missing or misshaped tensor fails at load naming its full key. The same constructors run
/// against a <see cref="LayoutRecorder"/>, which writes down every key, shape and role instead of loading it: the
/// synthetic checkpoints (--demo, --synthetic) are recorded from the code that loads real ones.
/// </summary>
public abstract class WeightSource(string prefix)
{
    /// <summary>This source's place in the network, e.g. "input_blocks.1.0." (empty at the root).</summary>
    public string Prefix { get; } = prefix;

    /// <summary>The backend the weights live on.</summary>
    public abstract IBackend Backend { get; }

    /// <summary>The same weights one level down: <c>Pp("norm1")</c> reads "norm1.*" under this prefix.</summary>
    public WeightSource Pp(string name) => At(Prefix + name + ".");

    protected abstract WeightSource At(string prefix);

    /// <summary>Tensor <paramref name="name"/> under the prefix, which must have exactly <paramref name="shape"/>.</summary>
    public abstract Tensor Get(string name, ParamKind kind, params int[] shape);

    /// <summary>
    /// A linear weight [out, in]; one stored as a 1×1 convolution [out, in, 1, 1] (the VAE's attention, conv-style
    /// transformer projections) is accepted and viewed as [out, in], since it acts on channels alone.
    /// <paramref name="storedAsConv"/> is the form a recorded layout writes.
    /// </summary>
    public abstract Tensor GetLinear(string name, int outFeatures, int inFeatures, bool storedAsConv);

    /// <summary>Whether the weights hold <paramref name="name"/> (a recorder holds nothing: the config decides).</summary>
    public bool Has(string name) => ShapeOf(name) is not null;

    /// <summary>The stored shape of <paramref name="name"/>, or null where there is nothing to read (a recorder).</summary>
    public abstract int[]? ShapeOf(string name);

    /// <summary>
    /// The stored shape of <paramref name="name"/> as configuration inference reads it: a missing tensor, or an axis
    /// the tensor does not have, is an error naming the file and the full key.
    /// </summary>
    public TensorDims Dims(string name) => new(Source, Key(name), ShapeOf(name) ?? throw Error(name, "missing"));

    /// <summary>How many of name(0), name(1), ... the weights hold: the count up to the first one missing.</summary>
    public int CountOf(Func<int, string> name)
    {
        int n = 0;
        while (Has(name(n))) n++;
        return n;
    }

    /// <summary>
    /// A tensor the file format stores but this network does not compute with (CLIP's position ids, a text encoder's
    /// unused last layer): recorded into layouts, never loaded.
    /// </summary>
    public virtual void Declare(string name, ParamKind kind, params int[] shape) { }

    /// <summary>The same weights, declared rather than loaded (a block the network skips).</summary>
    public abstract WeightSource DeclareOnly();

    /// <summary>These weights where <paramref name="load"/>, else <see cref="DeclareOnly"/>.</summary>
    public WeightSource LoadedIf(bool load) => load ? this : DeclareOnly();

    /// <summary>The full key of <paramref name="name"/> (for error messages).</summary>
    public abstract string Key(string name);

    /// <summary>The file the weights come from (for error messages).</summary>
    public abstract string Source { get; }

    /// <summary>An error about the tensor <paramref name="name"/>, naming the file and the full key.</summary>
    public ModelFormatException Error(string name, string message) => new(Source, Key(name), message);
}
