using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// The exact fp32 reference backend: every weight widened to fp32 on load, every reduction accumulated in fp32
/// or wider. Fast enough for the tiny golden models and the test suite; slow but correct at real sizes.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    public static readonly CpuBackend Instance = new();

    public string Name => "cpu";

    internal static CpuTensor C(Tensor t) =>
        t as CpuTensor ?? throw new ArgumentException($"tensor {t} does not belong to the CPU backend");

    internal CpuTensor New(int[] shape) => new(this, new float[Shape.Size(shape)], shape);

    public Tensor FromHost(ReadOnlySpan<float> data, params int[] shape) => new CpuTensor(this, data.ToArray(), (int[])shape.Clone());

    public float[] ToHost(Tensor t) => (float[])C(t).Data.Clone();

    public Tensor Import(Tensor x) => new CpuTensor(this, x.Backend.ToHost(x), (int[])x.Shape.Clone());

    public Tensor LoadWeight(SafeTensorsFile file, string name)
    {
        var info = file.Info(name);
        if (!DTypes.IsFloat(info.DType)) throw new ModelFormatException(file.Path, name, $"is {DTypes.Name(info.DType)}, expected a float tensor");
        var data = file.ReadFinite(name, longLived: true);
        return TensorScope.Detach(new CpuTensor(this, data, (int[])info.Shape.Clone()));
    }

    public Tensor Reshape(Tensor x, params int[] shape)
    {
        var shp = ShapeRules.Reshape(x, shape);
        return new CpuTensor(this, C(x).Data, shp);
    }

    public void Dispose() { }
}
