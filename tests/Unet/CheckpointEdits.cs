using LayerDiffusion.Native.IO;

namespace LayerDiffusion.Native.Tests.Unet;

/// <summary>Writes edited copies of a golden safetensors file: a tensor dropped, renamed or given another shape.</summary>
internal static class CheckpointEdits
{
    /// <param name="keep">which source keys to copy</param>
    /// <param name="edit">per kept key: null to copy as is, (new name, null) to rename it, or (new name, new shape)
    /// for an fp32 tensor of that shape filled with 0.01</param>
    public static string Write(string sourcePath, string dir, Func<string, bool> keep, Func<string, (string Name, int[]? Shape)?>? edit = null)
    {
        using var src = SafeTensorsFile.Open(sourcePath);
        var w = new SafeTensorsWriter();
        foreach (var name in src.Names)
        {
            if (!keep(name)) continue;
            var info = src.Info(name);
            var change = edit?.Invoke(name);
            if (change is { Shape: null } renamed)
                w.Add(renamed.Name, info.DType, info.Shape, src.Bytes(info));
            else if (change is { Shape: { } shape } e)
            {
                var data = new float[Tensors.Shape.Size(shape)];
                Array.Fill(data, 0.01f);
                w.Add(e.Name, shape, data);
            }
            else w.Add(name, info.DType, info.Shape, src.Bytes(info));
        }
        string path = Path.Combine(dir, Guid.NewGuid().ToString("N")[..8] + ".safetensors");
        w.Write(path);
        return path;
    }
}
