using System.Reflection;
using LayerDiffusion.Native.Interop;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>
/// The compiled kernels/*.cu: from LD_KERNELS_DIR when set (cubin / fatbin built by nvcc through CMake, or .ptx),
/// else from the PTX that clang-14 produced at build time and the engine embeds (JIT-compiled by the driver for the
/// GPU at hand; the driver caches the result). Kernels are looked up by their extern "C" names.
/// </summary>
public sealed class KernelLibrary : IDisposable
{
    /// <summary>One module per kernels/*.cu file.</summary>
    public static readonly string[] ModuleNames = ["elementwise", "layout", "norm", "attention"];

    private readonly List<CudaModule> _modules = new();
    private readonly Dictionary<string, nint> _cache = new(StringComparer.Ordinal);

    public KernelLibrary(CudaDevice device)
    {
        string? dir = Environment.GetEnvironmentVariable("LD_KERNELS_DIR");
        var sources = new List<string>();
        foreach (var name in ModuleNames)
        {
            var (image, source) = string.IsNullOrEmpty(dir) ? Embedded(name) : FromDirectory(dir, name);
            _modules.Add(new CudaModule(device, image, source));
            sources.Add(source);
        }
        Origin = string.IsNullOrEmpty(dir) ? "embedded PTX (driver JIT)" : $"LD_KERNELS_DIR={dir}";
    }

    public string Origin { get; }

    /// <summary>The embedded PTX of one module, or null if this build has none (it always should).</summary>
    public static byte[]? EmbeddedPtx(string module)
    {
        using var s = typeof(KernelLibrary).Assembly.GetManifestResourceStream($"kernels/{module}.ptx");
        if (s is null) return null;
        var bytes = new byte[s.Length];
        s.ReadExactly(bytes);
        return bytes;
    }

    private static (byte[], string) Embedded(string module) =>
        (EmbeddedPtx(module) ?? throw new LdException($"this build has no embedded kernels/{module}.ptx (the clang-14 kernel build did not run)"), $"embedded {module}.ptx");

    private static (byte[], string) FromDirectory(string dir, string module)
    {
        foreach (var ext in new[] { ".fatbin", ".cubin", ".ptx" })
        {
            var path = Path.Combine(dir, module + ext);
            if (File.Exists(path)) return (File.ReadAllBytes(path), path);
        }
        throw new LdException($"LD_KERNELS_DIR={dir}: no {module}.fatbin, {module}.cubin or {module}.ptx there (build them with cmake, see CMakeLists.txt)");
    }

    public nint Get(string name)
    {
        lock (_cache)
        {
            if (_cache.TryGetValue(name, out var f)) return f;
            foreach (var m in _modules)
                if (m.TryGetFunction(name, out f))
                {
                    _cache[name] = f;
                    return f;
                }
        }
        throw new LdException($"kernel {name} is in none of the loaded modules ({Origin}); the kernels and the engine are out of step");
    }

    public void Dispose()
    {
        foreach (var m in _modules) m.Dispose();
        _modules.Clear();
    }
}
