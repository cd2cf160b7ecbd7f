using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Profiling;

/// <summary>
/// The NVTX v3 injection protocol, done here instead of by the NVTX headers (which C# cannot include): load the tool
/// library named by NVTX_INJECTION64_PATH, call its <c>InitializeInjectionNvtx2(getExportTable)</c> once, and let it
/// fill our function-pointer slots through the export tables. Layout as NVIDIA's nvtxDetail/nvtxTypes.h defines it:
/// export table 1 (NVTX_ETID_CALLBACKS) is { size_t struct_size; GetModuleFunctionTable }, table 3
/// (NVTX_ETID_VERSIONINFO) is { size_t struct_size; uint32 version (3); uint32 reserved; SetInjectionNvtxVersion };
/// GetModuleFunctionTable(module, &amp;table, &amp;size) hands out, per callback module (CORE = 1 ... SYNC = 6), an
/// array of SIZE + 1 pointers to slots, entry 0 and entry SIZE null, and size = SIZE. The tool writes its
/// functions into the slots; we call CORE's RangePushA (id 9) and RangePop (id 11). Slots the tool leaves empty stay
/// null (a no-op), as the headers make them.
/// </summary>
internal sealed unsafe class NvtxInjection : INvtxSink
{
    private const uint ExportTableCallbacks = 1, ExportTableVersionInfo = 3, NvtxVersion = 3;
    private const int ModuleCore = 1, CoreRangePushA = 9, CoreRangePop = 11;

    /// <summary>NVTX_CBID_*_SIZE per module id (index 0 is NVTX_CB_MODULE_INVALID): CORE, CUDA, OPENCL, CUDART, CORE2, SYNC.</summary>
    private static readonly int[] ModuleSizes = [0, 16, 9, 15, 7, 16, 7];

    // Native memory the tool keeps pointers into: allocated once per process, never freed (as the headers' globals).
    private static nint** s_slots;      // s_slots[module][id]: the function pointer slots
    private static nint*** s_tables;    // s_tables[module]: SIZE + 1 pointers to slots
    private static nint* s_callbacks, s_versionInfo;

    private readonly delegate* unmanaged<byte*, int> _push;
    private readonly delegate* unmanaged<int> _pop;

    private NvtxInjection(nint push, nint pop)
    {
        _push = (delegate* unmanaged<byte*, int>)push;
        _pop = (delegate* unmanaged<int>)pop;
    }

    /// <summary>Attaches the tool library; null with the reason when it cannot be loaded, lacks the entry point, declines, or fills no range slots.</summary>
    public static NvtxInjection? TryAttach(string path, out string why)
    {
        if (!NativeLibrary.TryLoad(path, out var lib)) { why = $"NVTX_INJECTION64_PATH={path} could not be loaded"; return null; }
        if (!NativeLibrary.TryGetExport(lib, "InitializeInjectionNvtx2", out var init))
        {
            why = $"{path} has no InitializeInjectionNvtx2";
            return null;
        }
        BuildTables();
        int ok = ((delegate* unmanaged<delegate* unmanaged<uint, void*>, int>)init)(&GetExportTable);
        if (ok == 0) { why = $"{path}: InitializeInjectionNvtx2 returned 0 (the tool declined)"; return null; }
        nint push = s_slots[ModuleCore][CoreRangePushA], pop = s_slots[ModuleCore][CoreRangePop];
        if (push == 0 || pop == 0) { why = $"{path} attached but set no RangePushA/RangePop"; return null; }
        why = "";
        return new NvtxInjection(push, pop);
    }

    private static void BuildTables()
    {
        if (s_tables != null) return;
        int modules = ModuleSizes.Length;
        s_slots = (nint**)NativeMemory.AllocZeroed((nuint)(modules * sizeof(nint*)));
        s_tables = (nint***)NativeMemory.AllocZeroed((nuint)(modules * sizeof(nint**)));
        for (int m = 1; m < modules; m++)
        {
            int size = ModuleSizes[m];
            s_slots[m] = (nint*)NativeMemory.AllocZeroed((nuint)(size * sizeof(nint)));
            s_tables[m] = (nint**)NativeMemory.AllocZeroed((nuint)((size + 1) * sizeof(nint*)));
            for (int id = 1; id < size; id++) s_tables[m][id] = &s_slots[m][id];
        }
        s_callbacks = (nint*)NativeMemory.AllocZeroed((nuint)(2 * sizeof(nint)));
        s_callbacks[0] = 2 * sizeof(nint);
        s_callbacks[1] = (nint)(delegate* unmanaged<int, nint***, uint*, int>)&GetModuleFunctionTable;
        s_versionInfo = (nint*)NativeMemory.AllocZeroed((nuint)(sizeof(nint) + 8 + sizeof(nint)));
        s_versionInfo[0] = sizeof(nint) + 8 + sizeof(nint);
        *(uint*)(s_versionInfo + 1) = NvtxVersion;          // then 4 reserved bytes, left zero
        *(nint*)((byte*)s_versionInfo + sizeof(nint) + 8) = (nint)(delegate* unmanaged<uint, void>)&SetInjectionNvtxVersion;
    }

    [UnmanagedCallersOnly]
    private static void* GetExportTable(uint id) => id switch
    {
        ExportTableCallbacks => s_callbacks,
        ExportTableVersionInfo => s_versionInfo,
        _ => null,
    };

    [UnmanagedCallersOnly]
    private static int GetModuleFunctionTable(int module, nint*** table, uint* size)
    {
        if (module <= 0 || module >= ModuleSizes.Length) return 0;
        if (size != null) *size = (uint)ModuleSizes[module];
        if (table != null) *table = s_tables[module];
        return 1;
    }

    /// <summary>Reserved in NVTX for applications to refuse known-bad tool versions; nothing to refuse.</summary>
    [UnmanagedCallersOnly]
    private static void SetInjectionNvtxVersion(uint version) { }

    [SkipLocalsInit]
    public void Push(string name)
    {
        Span<byte> stack = stackalloc byte[NvtxText.StackBytes];
        fixed (byte* p = NvtxText.Utf8z(name, stack)) _push(p);
    }

    public void Pop() => _pop();
}
