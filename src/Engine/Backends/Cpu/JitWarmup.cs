using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace LayerDiffusion.Native.Backends.Cpu;

/// <summary>
/// Takes the JIT off the first generation's critical path (perf/RESULTS.md, "JIT tax"): at process start a background
/// thread compiles the methods a generation runs (the CPU backend's kernels first, then the layers, models, sampler
/// and pipelines) with <see cref="RuntimeHelpers.PrepareMethod(RuntimeMethodHandle)"/>, while the main thread reads
/// the model files and the tokenizer. A method the main thread reaches while it is being compiled waits for that one
/// compilation, never compiles it twice. Compilation has no side effects: no static constructor runs, no result
/// changes. Only in a JIT build: NativeAOT code is compiled ahead of time (the branch is removed there).
/// What it reaches (measured, .NET 10): methods with loops get their final optimised code (ld's runtimeconfig turns
/// quick JIT for loops off); loop-free ones their tier-0 code, except virtual ones (the backend's interface methods,
/// which PrepareMethod leaves alone under tiered compilation): those thin wrappers still compile on first call,
/// their loops (lambdas, kernels) are done here. It takes ~100 ms of CPU off the first generation's main thread on
/// the demo, not the whole tax (perf/RESULTS.md). LD_JIT_WARMUP=0 turns it off (to measure it).
/// `ld` starts this only when it has no multicore JIT profile of its previous run to replay (src/Cli/JitProfile.cs), which
/// reaches what this cannot: the very first run on a machine, after a rebuild, or with LD_JIT_PROFILE=0.
/// </summary>
public static class JitWarmup
{
    /// <summary>Namespaces under LayerDiffusion.Native, in the order a generation first needs them.</summary>
    private static readonly string[] Order =
    [
        "Backends.Cpu", "Tensors", "IO", "Text", "Models.Layers", "Models.Clip", "Models.Unet", "Models.Vae", "Models",
        "Sampling", "Random", "LayerDiffusion", "Lora", "Pipelines", "Imaging",
    ];

    private static int _started;

    /// <summary>Starts the warm-up once per process (later calls do nothing); returns at once.</summary>
    public static void Start()
    {
        if (!RuntimeFeature.IsDynamicCodeCompiled) return;
        if (Environment.GetEnvironmentVariable("LD_JIT_WARMUP") == "0") return;
        if (Interlocked.Exchange(ref _started, 1) != 0) return;
        StartThread();
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "JIT builds only: NativeAOT never reaches this (IsDynamicCodeCompiled is false there).")]
    private static void StartThread() =>
        new Thread(() => Run(typeof(JitWarmup).Assembly)) { IsBackground = true, Name = "ld JIT warm-up" }.Start();

    [RequiresUnreferencedCode("reflects over the engine's types to compile their methods")]
    private static void Run(Assembly engine)
    {
        Type[] types;
        try { types = engine.GetTypes(); }
        catch (ReflectionTypeLoadException e) { types = e.Types.Where(t => t is not null).ToArray()!; }
        foreach (var ns in Order)
        {
            // Exactly that namespace ("Models" does not take "Models.Unet" again); nested types (lambdas' closures,
            // whose bodies are the parallel kernels' loops) share their declaring type's namespace.
            string full = "LayerDiffusion.Native." + ns;
            foreach (var type in types)
                if (type.Namespace == full) Prepare(type);
        }
    }

    [RequiresUnreferencedCode("reflects over the type's methods")]
    private static void Prepare(Type type)
    {
        if (type.ContainsGenericParameters) return;
        const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var m in type.GetMethods(All))
        {
            if (m.IsAbstract || m.ContainsGenericParameters || !WorthCompiling(m)) continue;
            if ((m.Attributes & MethodAttributes.PinvokeImpl) != 0) continue;
            if ((m.MethodImplementationFlags & (MethodImplAttributes.InternalCall | MethodImplAttributes.Runtime)) != 0) continue;
            try { RuntimeHelpers.PrepareMethod(m.MethodHandle); }
            catch (Exception) { /* a method the JIT refuses here is compiled on first call as usual */ }
        }
    }

    /// <summary>
    /// Methods of some size only: the small ones (accessors, records' generated members, wrappers) take the JIT
    /// little time at their first call, and compiling all of them here would cost more CPU than it moves off the
    /// main thread.
    /// </summary>
    [RequiresUnreferencedCode("reads the method's IL size")]
    private static bool WorthCompiling(MethodInfo m) =>
        (m.GetMethodBody()?.GetILAsByteArray()?.Length ?? 0) >= MinIlBytes;

    private const int MinIlBytes = 64;
}
