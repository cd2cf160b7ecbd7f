using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Models.Synthetic;

namespace LayerDiffusion.Native.Models.Layers;

/// <summary>
/// A <see cref="WeightSource"/> that loads nothing and writes down every tensor a network's constructor asks for (key,
/// shape, role) into a <see cref="TensorLayout"/>, in the file's own key layout (<paramref name="map"/> turns a
/// canonical key into a stored one, fused parts recorded once at their full size). Constructors run against it
/// with a configuration instead of a file: the layout is the model file that configuration loads from. Without a
/// layout it records nothing: the weights of a block the network skips (<see cref="WeightSource.DeclareOnly"/>).
/// </summary>
public sealed class LayoutRecorder(TensorLayout? layout, string root = "", KeyMap? map = null, string prefix = "") : WeightSource(prefix)
{
    public override IBackend Backend => CpuBackend.Instance;
    public override string Source => "(recorded layout)";

    protected override WeightSource At(string prefix) => new LayoutRecorder(layout, root, map, prefix);

    public override Tensor Get(string name, ParamKind kind, params int[] shape)
    {
        Declare(name, kind, shape);
        return Placeholder.Of(shape);
    }

    public override Tensor GetLinear(string name, int outFeatures, int inFeatures, bool storedAsConv)
    {
        Declare(name, ParamKind.Weight, storedAsConv ? [outFeatures, inFeatures, 1, 1] : [outFeatures, inFeatures]);
        return Placeholder.Of([outFeatures, inFeatures]);
    }

    public override void Declare(string name, ParamKind kind, params int[] shape)
    {
        var at = map?.Invoke(Prefix + name) ?? new KeyLocation(Prefix + name);
        if (layout is null || at.Part > 0) return; // a fused tensor is recorded with its first part
        var stored = (int[])shape.Clone();
        stored[0] *= at.Parts;
        layout.Add(root + at.Key, kind, stored);
    }

    public override int[]? ShapeOf(string name) => null;
    public override WeightSource DeclareOnly() => this;
    public override string Key(string name) => root + Prefix + name;

    /// <summary>A shape without storage: what a recorded or declared-only weight is. Any op on it fails, since no backend owns it.</summary>
    private sealed class Placeholder : Tensor
    {
        private Placeholder(int[] shape) : base(CpuBackend.Instance, shape) { }

        public static Tensor Of(int[] shape) => TensorScope.Detach(new Placeholder((int[])shape.Clone()));

        public override void Dispose() { }
    }
}
