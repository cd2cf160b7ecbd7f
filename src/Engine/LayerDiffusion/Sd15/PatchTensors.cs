using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.LayerDiffusion.Sd15;

/// <summary>Loads an attention-sharing file's tensors with their shapes checked, naming the full key when one is missing or misshaped.</summary>
internal sealed class PatchTensors(IBackend backend, SafeTensorsFile file)
{
    public SafeTensorsFile File => file;

    public bool Has(string key) => file.Contains(key);

    /// <summary>The shape of <paramref name="key"/>, which must have <paramref name="rank"/> dimensions.</summary>
    public int[] ShapeOf(string key, int rank)
    {
        var shape = file.Info(key).Shape; // throws ModelFormatException "missing"
        if (shape.Length != rank) throw new ModelFormatException(file.Path, key, $"has shape {Shape.Format(shape)}, expected {rank} dimensions");
        return shape;
    }

    /// <summary>The tensor <paramref name="key"/> on the backend after checking its shape (-1 accepts any size).</summary>
    public Tensor Load(string key, params int[] shape)
    {
        var actual = ShapeOf(key, shape.Length);
        for (int i = 0; i < shape.Length; i++)
            if (shape[i] != -1 && shape[i] != actual[i])
                throw new ModelFormatException(file.Path, key, $"has shape {Shape.Format(actual)}, expected {Shape.Format(shape).Replace("-1", "?")}");
        if (!DTypes.IsFloat(file.Info(key).DType)) throw new ModelFormatException(file.Path, key, "is not a float tensor");
        return TensorScope.Detach(backend.LoadWeight(file, key));
    }

    /// <summary>How many consecutive indexed entries exist: keys {prefix}{i}{suffix} for i = 0, 1, ...</summary>
    public int CountIndexed(string prefix, string suffix)
    {
        int n = 0;
        while (file.Contains($"{prefix}{n}{suffix}")) n++;
        return n;
    }
}
