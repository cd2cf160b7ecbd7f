using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Layers;

/// <summary>
/// A shape without storage: what a recorded or declared-only weight is. Any op on it fails, since no backend owns it.
/// </summary>
internal sealed class PlaceholderTensor : Tensor
{
    private PlaceholderTensor(IBackend backend, int[] shape) : base(backend, shape) { }

    public static Tensor Of(IBackend backend, int[] shape) => TensorScope.Detach(new PlaceholderTensor(backend, (int[])shape.Clone()));

    public override void Dispose() { }
}

/// <summary>The weights of a block the network skips: nothing is loaded; a recorder still records them.</summary>
internal sealed class DeclaredWeights(WeightSource inner, string prefix) : WeightSource(prefix)
{
    public override IBackend Backend => inner.Backend;
    public override string Source => inner.Source;
    protected override WeightSource At(string prefix) => new DeclaredWeights(inner, prefix);
    public override Tensor Get(string name, Synthetic.ParamKind kind, params int[] shape) => PlaceholderTensor.Of(Backend, shape);
    public override Tensor GetLinear(string name, int outFeatures, int inFeatures, bool storedAsConv) => PlaceholderTensor.Of(Backend, [outFeatures, inFeatures]);
    public override bool Has(string name) => false;
    public override int[]? ShapeOf(string name) => null;
    public override void Declare(string name, Synthetic.ParamKind kind, params int[] shape) { }
    public override WeightSource DeclareOnly() => this;
    public override string Key(string name) => inner.Key("") + Prefix + name;
}
