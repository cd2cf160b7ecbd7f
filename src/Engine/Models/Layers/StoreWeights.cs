using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Models.Synthetic;
using LayerDiffusion.Native.Models.Unet;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Layers;

/// <summary>A <see cref="WeightSource"/> over the tensors of a loaded <see cref="WeightStore"/>.</summary>
public sealed class StoreWeights(WeightStore store, string prefix = "") : WeightSource(prefix)
{
    public WeightStore Store => store;
    public override IBackend Backend => store.Backend;
    public override string Source => store.Source;

    protected override WeightSource At(string prefix) => new StoreWeights(store, prefix);

    public override Tensor Get(string name, ParamKind kind, params int[] shape) => store.Get(Prefix + name, shape);

    public override Tensor GetLinear(string name, int outFeatures, int inFeatures, bool storedAsConv) =>
        store.GetLinear(Prefix + name, outFeatures, inFeatures);

    public override bool Has(string name) => store.Contains(Prefix + name);
    public override int[]? ShapeOf(string name) => store.Contains(Prefix + name) ? store.ShapeOf(Prefix + name) : null;
    public override void Declare(string name, ParamKind kind, params int[] shape) { }
    public override WeightSource DeclareOnly() => new DeclaredWeights(this, Prefix);
    public override string Key(string name) => store.Prefix + Prefix + name;
}
