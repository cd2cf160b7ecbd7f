using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Interop;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>
/// The compiled kernels/*.cu: from LD_KERNELS_DIR when set (cubin / fatbin built by nvcc through CMake, or .ptx),
/// else from the PTX that clang-14 produced at build time and the engine embeds (JIT-compiled by the driver for the
/// GPU at hand; the driver caches the result). Kernels are looked up by their extern "C" names. Modules load on
/// first use, one at a time, and a module that fails to load (a JIT error) only takes its own kernels down: the
/// error is kept and reported when one of them is asked for. Each kernel comes with its parameter layout, read off
/// the embedded PTX (the same source whichever image is loaded).
/// </summary>
public sealed class KernelLibrary : IDisposable
{
    /// <summary>One module per kernels/*.cu file.</summary>
    public static readonly string[] ModuleNames = ["elementwise", "layout", "norm", "attention", "attention_mma", "attention_mma2", "attention_d8", "attention_cross", "attention_fewkeys", "gemm", "random"];

    private readonly CudaDevice _device;
    private readonly string? _dir;
    private readonly CudaModule?[] _modules = new CudaModule?[ModuleNames.Length];
    private readonly string?[] _loadErrors = new string?[ModuleNames.Length];
    private readonly Dictionary<string, (nint, KernelParams)> _cache = new(StringComparer.Ordinal);
    private static readonly Lazy<Dictionary<string, KernelParams>> s_params = new(ReadParams);

    public KernelLibrary(CudaDevice device)
    {
        _device = device;
        _dir = Environment.GetEnvironmentVariable("LD_KERNELS_DIR");
        if (string.IsNullOrEmpty(_dir)) _dir = null;
        else if (!Directory.Exists(_dir)) throw new LdException($"LD_KERNELS_DIR={_dir} is not a directory");
        Origin = _dir is null ? "embedded PTX (driver JIT)" : $"LD_KERNELS_DIR={_dir}";
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

    private (byte[], string) Image(string module)
    {
        if (_dir is null)
            return (EmbeddedPtx(module) ?? throw new LdException($"this build has no embedded kernels/{module}.ptx (the clang-14 kernel build did not run)"), $"embedded {module}.ptx");
        foreach (var ext in new[] { ".fatbin", ".cubin", ".ptx" })
        {
            var path = Path.Combine(_dir, module + ext);
            if (File.Exists(path)) return (File.ReadAllBytes(path), path);
        }
        throw new LdException($"LD_KERNELS_DIR={_dir}: no {module}.fatbin, {module}.cubin or {module}.ptx there (build them with cmake, see CMakeLists.txt)");
    }

    /// <summary>Loads every module now (start-up checks); returns the load errors, empty when all loaded.</summary>
    public IReadOnlyList<string> LoadAll()
    {
        lock (_cache)
            for (int i = 0; i < ModuleNames.Length; i++) Load(i);
        return _loadErrors.Where(e => e is not null).Select(e => e!).ToArray();
    }

    private CudaModule? Load(int i)
    {
        if (_modules[i] is not null || _loadErrors[i] is not null) return _modules[i];
        try
        {
            var (image, source) = Image(ModuleNames[i]);
            _modules[i] = new CudaModule(_device, image, source);
        }
        catch (LdException e)
        {
            _loadErrors[i] = $"{ModuleNames[i]}: {e.Message}";
        }
        return _modules[i];
    }

    /// <summary>The parameter layouts of every kernel in the embedded PTX.</summary>
    internal static Dictionary<string, KernelParams> ReadParams()
    {
        var all = new Dictionary<string, KernelParams>(StringComparer.Ordinal);
        foreach (var m in ModuleNames)
            if (EmbeddedPtx(m) is { } ptx)
                foreach (var (name, p) in KernelParams.Parse(System.Text.Encoding.ASCII.GetString(ptx))) all[name] = p;
        return all;
    }

    /// <summary>The kernel's function handle and parameter layout (modules load on first use).</summary>
    internal (nint Function, KernelParams Params) Get(string name)
    {
        lock (_cache)
        {
            if (_cache.TryGetValue(name, out var cached)) return cached;
            nint f;
            // Loaded modules first, then the others one by one, so a lookup loads no more than it needs.
            for (int pass = 0; pass < 2; pass++)
                for (int i = 0; i < ModuleNames.Length; i++)
                {
                    var m = pass == 0 ? _modules[i] : Load(i);
                    if (m is not null && m.TryGetFunction(name, out f))
                    {
                        if (!s_params.Value.TryGetValue(name, out var p))
                            throw new LdException($"kernel {name} has no parameter list in the embedded PTX: the kernels and the engine are out of step");
                        return _cache[name] = (f, p);
                    }
                }
            var errors = _loadErrors.Where(e => e is not null).ToArray();
            throw new LdException($"kernel {name} is in none of the loaded modules ({Origin})" +
                (errors.Length > 0 ? "; modules that failed to load: " + string.Join("; ", errors) : "; the kernels and the engine are out of step"));
        }
    }

    public void Dispose()
    {
        for (int i = 0; i < _modules.Length; i++)
        {
            _modules[i]?.Dispose();
            _modules[i] = null;
        }
    }
}
