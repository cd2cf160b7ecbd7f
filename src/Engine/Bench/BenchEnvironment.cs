using System.Globalization;
using System.Reflection.PortableExecutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LayerDiffusion.Native.Backends.Cuda;
using LayerDiffusion.Native.Interop;

namespace LayerDiffusion.Native.Bench;

/// <summary>
/// Where and how a bench file was measured (bench JSON v1 "context"): date (UTC), host, CPU, GPU (null on the CPU),
/// runtime (.NET version; JIT, ReadyToRun or NativeAOT), command line, the requested warm-up and run counts, commit, the device
/// the records were timed on and the models. Values that are unknown are null, never 0 or "".
/// </summary>
public sealed record BenchEnvironment
{
    public required string DateUtc { get; init; }
    public string? Host { get; init; }
    public required BenchCpu Cpu { get; init; }
    public BenchGpu? Gpu { get; init; }
    public required BenchRuntime Runtime { get; init; }
    public string? CommandLine { get; init; }
    public int? Warmup { get; init; }
    public int? Runs { get; init; }
    public required string Commit { get; init; }
    public string? Device { get; init; }
    public string? Models { get; init; }

    /// <summary>This process on this machine; the GPU's fields when <paramref name="backend"/> is the CUDA backend.</summary>
    public static BenchEnvironment Capture(IBackend? backend, string? commandLine, int? warmup, int? runs, string? device, string? models) => new()
    {
        DateUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        Host = NonEmpty(Environment.MachineName),
        Cpu = new BenchCpu(CpuModel(), Environment.ProcessorCount),
        Gpu = backend is CudaBackend ? DescribeGpu() : null,
        Runtime = BenchRuntime.Current,
        CommandLine = NonEmpty(commandLine),
        Warmup = warmup,
        Runs = runs,
        Commit = BuildInfo.Commit,
        Device = NonEmpty(device),
        Models = NonEmpty(models),
    };

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    /// <summary>"model name" from /proc/cpuinfo (Linux); null elsewhere.</summary>
    private static string? CpuModel()
    {
        try
        {
            if (!File.Exists("/proc/cpuinfo")) return null;
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int i and > 0)
                    return NonEmpty(line[(i + 1)..].Trim());
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    private static BenchGpu? DescribeGpu()
    {
        var d = CudaDevice.TryGetDefault(out _);
        if (d is null) return null;
        int cuda = d.DriverVersion;
        return new BenchGpu(d.Name, d.MultiprocessorCount, d.TotalMemory, NvidiaDriverVersion(), $"{cuda / 1000}.{cuda % 1000 / 10}",
            $"{d.ComputeMajor}.{d.ComputeMinor}");
    }

    /// <summary>The kernel module's version ("580.159.04") from /proc/driver/nvidia/version; null where absent (the emulated GPU).</summary>
    private static string? NvidiaDriverVersion()
    {
        try
        {
            const string path = "/proc/driver/nvidia/version";
            if (!File.Exists(path)) return null;
            var first = File.ReadLines(path).FirstOrDefault() ?? "";
            // "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.04  Tue ..."
            return first.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .FirstOrDefault(t => t.Count(c => c == '.') >= 1 && t.All(c => char.IsAsciiDigit(c) || c == '.'));
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}

public sealed record BenchCpu(string? Model, int? Cores);

/// <summary>The GPU: name, SM count, memory, the driver's version and the CUDA version it supports, compute capability.</summary>
public sealed record BenchGpu(string Name, int SmCount, long MemoryBytes, string? DriverVersion, string CudaVersion, string ComputeCapability);

/// <summary>
/// The .NET runtime: its version, and how the engine's code was compiled: at run time ("jit", with the
/// tiered-compilation switches in force), ReadyToRun ahead of time with the JIT for the rest ("ready_to_run": the
/// Release build on linux-x64, same switches) or all ahead of time ("native_aot").
/// </summary>
public sealed record BenchRuntime(string DotnetVersion, string Mode, bool? TieredCompilation, bool? QuickJitForLoops, bool? TieredPgo)
{
    public static BenchRuntime Current { get; } = Detect();

    private static BenchRuntime Detect()
    {
        bool jit = RuntimeFeature.IsDynamicCodeCompiled;
        string mode = !jit ? "native_aot"
            : IsReadyToRunImage(Path.Combine(AppContext.BaseDirectory, typeof(BenchRuntime).Assembly.GetName().Name + ".dll")) ? "ready_to_run"
            : "jit";
        return new BenchRuntime(RuntimeInformation.FrameworkDescription, mode,
            jit ? Switch("System.Runtime.TieredCompilation", "DOTNET_TieredCompilation", true) : null,
            jit ? Switch("System.Runtime.TieredCompilation.QuickJitForLoops", "DOTNET_TC_QuickJitForLoops", true) : null,
            jit ? Switch("System.Runtime.TieredPGO", "DOTNET_TieredPGO", true) : null);
    }

    /// <summary>Whether the file is a ReadyToRun image (a managed-native header beside the IL); false for IL-only or unreadable files.</summary>
    public static bool IsReadyToRunImage(string path)
    {
        try
        {
            using var pe = new PEReader(File.OpenRead(path));
            return pe.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size > 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException)
        {
            return false;
        }
    }

    /// <summary>A runtime switch as in force: the environment variable wins over runtimeconfig.json, else the default.</summary>
    private static bool Switch(string property, string variable, bool fallback)
    {
        var env = Environment.GetEnvironmentVariable(variable);
        if (env is "0") return false;
        if (env is "1") return true;
        return AppContext.GetData(property) switch
        {
            bool b => b,
            string s when bool.TryParse(s, out bool v) => v,
            _ => fallback,
        };
    }
}
