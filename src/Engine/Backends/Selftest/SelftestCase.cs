using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Selftest;

/// <summary>How a case's random inputs are drawn: uniform in [Low, High], rounded to the backend's storage precision.</summary>
public readonly record struct InputSpec(int[] Shape, float Low = -1f, float High = 1f)
{
    public static implicit operator InputSpec(int[] shape) => new(shape);
}

/// <summary>
/// One op on one set of shapes: <see cref="Run"/> is called once on the CPU reference and once on the backend under
/// test with the same inputs (uploaded with each backend's FromHost) and must return a tensor of the same backend.
/// <see cref="Reference"/>, when set, replaces the CPU backend as the reference (ops outside IBackend).
/// </summary>
public sealed record SelftestCase(string Op, string Detail, InputSpec[] Inputs, Func<IBackend, Tensor[], Tensor>? Run)
{
    public string Name => $"{Op} {Detail}";

    /// <summary>Reference computed on the host from the (rounded) input values, instead of the CPU backend.</summary>
    public Func<float[][], float[]>? Reference { get; init; }

    /// <summary>Extra slack on the tolerance for ops whose rounding is amplified (e.g. long products in fp16).</summary>
    public double ToleranceScale { get; init; } = 1;

    /// <summary>A bound on the largest single difference as well (RNG: one bad element must not hide in rel_l2).</summary>
    public double? MaxAbsBound { get; init; }

    /// <summary>On a CUDA backend: the op's exact kernel launches and GEMM calls (see <see cref="OpFootprint"/>).</summary>
    public (int Kernels, int Gemms)? Launches { get; init; }

    /// <summary>On a CUDA backend: the most device memory the op may hold beyond its output (no stored intermediate).</summary>
    public long? MaxScratchBytes { get; init; }

    /// <summary>A case only timed (with --time): real model sizes whose CPU reference would take minutes.</summary>
    public bool TimingOnly { get; init; }

    /// <summary>
    /// Why the backend under test cannot run this case (an optional library it lacks, e.g. cuDNN), or null: such a
    /// case is reported as skipped with the reason, never as passed.
    /// </summary>
    public Func<IBackend, string?>? Unavailable { get; init; }

    /// <summary>For ops that do not map tensors to a tensor (file loading, bytes): host inputs in, values to compare out.</summary>
    public Func<IBackend, float[][], float[]>? HostRun { get; init; }
}

/// <summary>The outcome of one case.</summary>
public sealed record SelftestResult(string Name, double MaxAbs, double RelL2, double Tolerance, bool Passed, string? Error)
{
    /// <summary>Median time of one run of the op on the backend under test (with --time), in milliseconds.</summary>
    public double? Milliseconds { get; init; }
    public bool TimingOnly { get; init; }

    /// <summary>Why the case did not run on this backend (see <see cref="SelftestCase.Unavailable"/>), or null.</summary>
    public string? Skipped { get; init; }

    private string Time => Milliseconds is { } ms ? $"  {ms:0.000} ms" : "";

    public string Line => Skipped is not null ? $"SKIP  {Name}  ({Skipped})"
        : Error is not null
        ? $"FAIL  {Name}  error: {Error}"
        : TimingOnly ? $"TIME  {Name}{Time}"
        : $"{(Passed ? "PASS" : "FAIL")}  {Name}  max_abs={MaxAbs:0.###e+00} rel_l2={RelL2:0.###e+00} (tol {Tolerance:0.#e+00}){Time}";
}
