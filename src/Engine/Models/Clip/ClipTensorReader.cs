using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Models.Clip;

/// <summary>Loads one encoder's tensors under a key prefix, naming the full key when one is missing or misshaped.</summary>
internal sealed class ClipTensorReader(IBackend backend, SafeTensorsFile file, string prefix)
{
    public SafeTensorsFile File => file;
    public string Prefix => prefix;

    public string Key(string name) => prefix + name;

    public bool Has(string name) => file.Contains(Key(name));

    public int[] ShapeOf(string name, int rank)
    {
        var shape = file.Info(Key(name)).Shape; // throws ModelFormatException "missing"
        if (shape.Length != rank) throw new ModelFormatException(file.Path, Key(name), $"has shape {Shape.Format(shape)}, expected {rank} dimensions");
        return shape;
    }

    /// <summary>Loads a weight after checking its shape (a -1 in <paramref name="shape"/> accepts any size).</summary>
    public Tensor Load(string name, params int[] shape)
    {
        var actual = ShapeOf(name, shape.Length);
        for (int i = 0; i < shape.Length; i++)
            if (shape[i] != -1 && shape[i] != actual[i])
                throw new ModelFormatException(file.Path, Key(name), $"has shape {Shape.Format(actual)}, expected {Shape.Format(shape).Replace("-1", "?")}");
        return backend.LoadWeight(file, Key(name));
    }

    /// <summary>How many consecutive indexed blocks exist: keys {prefix}{group}{i}{suffix} for i = 0, 1, ...</summary>
    public int CountIndexed(string group, string suffix)
    {
        int n = 0;
        while (file.Contains($"{prefix}{group}{n}{suffix}")) n++;
        return n;
    }
}
