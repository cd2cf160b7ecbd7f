using System.Runtime.InteropServices;
using System.Text;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// NVTX ranges for Nsight Systems, through libnvToolsExt.so.1 (the NVTX v2 library) when it can be loaded, and a
/// no-op otherwise. CUDA 12.9+ toolkits ship NVTX v3 as headers only, with no such library; then there are no
/// ranges (Nsight still shows every kernel, just not grouped by phase). Never loaded unless
/// <see cref="Enable"/> is called (the CPU backend has no use for it).
/// </summary>
public static class Nvtx
{
    private const string Library = "libnvToolsExt.so.1";
    private static bool _enabled;

    /// <summary>Tries to load the library; returns whether ranges will be emitted.</summary>
    public static bool Enable()
    {
        _enabled = NativeLibrary.TryLoad(Library, out _);
        return _enabled;
    }

    public static bool Enabled => _enabled;

    /// <summary>A range that ends when disposed.</summary>
    public static Scope Range(string name)
    {
        if (!_enabled) return default;
        var bytes = Encoding.UTF8.GetBytes(name + "\0");
        RangePushA(bytes);
        return new Scope(true);
    }

    public readonly struct Scope(bool active) : IDisposable
    {
        public void Dispose()
        {
            if (active) RangePop();
        }
    }

    [DllImport(Library, EntryPoint = "nvtxRangePushA")]
    private static extern int RangePushA(byte[] message);

    [DllImport(Library, EntryPoint = "nvtxRangePop")]
    private static extern int RangePop();
}
