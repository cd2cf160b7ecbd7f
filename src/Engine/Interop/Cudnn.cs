namespace LayerDiffusion.Native.Interop;

/// <summary>
/// A cuDNN handle bound to one stream, and the process-wide plans of the shapes it has convolved: each
/// <see cref="ConvSpec"/> is searched once per process (cudnnFindConvolutionForwardAlgorithmEx, timed on the device,
/// or cudnnGetConvolutionForwardAlgorithm_v7's heuristic with LD_CUDNN_SEARCH=heuristic) and the result cached. The
/// caller owns all device memory: the search and every call get their workspace from it (the backend's pool).
/// </summary>
public sealed unsafe class Cudnn : CudaHandle
{
    /// <summary>Largest workspace an algorithm may use (and the search workspace): algorithms wanting more are skipped.</summary>
    public const long MaxWorkspaceBytes = 128L << 20;

    private static readonly Dictionary<ConvSpec, CudnnConvPlan> s_plans = new();
    private static int s_searches;
    private static CudnnActivationDescriptor? s_identity;

    private readonly CudnnApi _api;

    private Cudnn(CudaDevice device, CudnnApi api, CudaStream stream) : base(device)
    {
        _api = api;
        device.MakeCurrent();
        nint h;
        api.Check(api.cudnnCreate(&h), "cudnnCreate");
        SetHandle(h);
        api.Check(api.cudnnSetStream(h, stream.Raw), "cudnnSetStream");
    }

    /// <summary>Whether cuDNN 9 can be loaded here, with its version or the reason it cannot (loads the library once).</summary>
    public static bool IsAvailable(out string versionOrWhy)
    {
        var api = CudnnApi.TryGet(out string why);
        versionOrWhy = api is null ? why : $"cuDNN {api.VersionText} ({Path.GetFileName(api.LibraryPath)})";
        return api is not null;
    }

    /// <summary>A handle on <paramref name="stream"/>, or null with the reason cuDNN 9 is not usable.</summary>
    public static Cudnn? TryCreate(CudaDevice device, CudaStream stream, out string why)
    {
        var api = CudnnApi.TryGet(out why);
        return api is null ? null : new Cudnn(device, api, stream);
    }

    /// <summary>Algorithm searches run so far in this process (one per distinct spec).</summary>
    public static int Searches => Volatile.Read(ref s_searches);

    /// <summary>Every plan made so far (for diagnostics).</summary>
    public static IReadOnlyList<CudnnConvPlan> Plans()
    {
        lock (s_plans) return s_plans.Values.ToList();
    }

    /// <summary>The cached plan of <paramref name="spec"/>, if a search already made one.</summary>
    public static CudnnConvPlan? CachedPlan(in ConvSpec spec)
    {
        lock (s_plans) return s_plans.GetValueOrDefault(spec);
    }

    /// <summary>
    /// Searches the algorithms for <paramref name="spec"/> and caches the plan. <paramref name="timed"/>: Find runs
    /// every algorithm on the given buffers (x and w are read, y is overwritten with garbage) with up to
    /// <paramref name="workspaceBytes"/> of workspace; otherwise the heuristic ranks them without running anything.
    /// </summary>
    public CudnnConvPlan Search(in ConvSpec spec, ulong x, ulong w, ulong y, ulong workspace, long workspaceBytes, bool timed)
    {
        var plan = new CudnnConvPlan(spec, _api) { Method = timed ? "find" : "heuristic" };
        Interlocked.Increment(ref s_searches);
        var perf = new byte[CudnnApi.AlgoCount * CudnnApi.PerfBytes];
        int returned = 0;
        Device.MakeCurrent();
        fixed (byte* p = perf)
        {
            if (timed)
                _api.Check(_api.cudnnFindConvolutionForwardAlgorithmEx(handle, plan.X.Raw, x, plan.Filter.Raw, w, plan.Search.Raw, plan.Y.Raw, y,
                    CudnnApi.AlgoCount, &returned, p, workspace, (nuint)workspaceBytes), $"cudnnFindConvolutionForwardAlgorithmEx({spec})");
            else
                _api.Check(_api.cudnnGetConvolutionForwardAlgorithm_v7(handle, plan.X.Raw, plan.Filter.Raw, plan.Search.Raw, plan.Y.Raw,
                    CudnnApi.AlgoCount, &returned, p), $"cudnnGetConvolutionForwardAlgorithm_v7({spec})");
        }
        var rejected = new List<string>();
        for (int i = 0; i < Math.Min(returned, CudnnApi.AlgoCount); i++)
        {
            var r = perf.AsSpan(i * CudnnApi.PerfBytes, CudnnApi.PerfBytes);
            int algo = BitConverter.ToInt32(r), status = BitConverter.ToInt32(r[4..]), math = BitConverter.ToInt32(r[28..]);
            float ms = timed ? BitConverter.ToSingle(r[8..]) : float.NaN;
            long memory = (long)BitConverter.ToUInt64(r[16..]);
            string name = ConvAlgorithm.AlgoName(algo);
            if (status != CudnnApi.Success) { rejected.Add($"{name}: {_api.StatusName(status)}"); continue; }
            // Strict fp32 must not run on TF32 tensor cores, whatever math type the search offers a result in.
            if (spec.MathType == CudnnApi.MathFma && math != CudnnApi.MathFma) { rejected.Add($"{name}: math {math} in strict fp32"); continue; }
            bool isBest = plan.Best is null, isFused = algo == CudnnApi.AlgoImplicitPrecompGemm && plan.Fused is null;
            if (!isBest && !isFused) continue;
            // The heuristic's memory field is an estimate: the workspace query for the math type it runs in decides.
            var conv = math == spec.MathType ? plan.Search : new CudnnConvolutionDescriptor(_api, spec.Padding, spec.Stride, CudnnApi.DataFloat, math);
            long queried = WorkspaceSize(plan, conv, algo), workspaceNeeded = Math.Max(memory, queried);
            if (queried < 0 || workspaceNeeded > MaxWorkspaceBytes)
            {
                rejected.Add(queried < 0 ? $"{name}: workspace query not supported" : $"{name}: workspace {workspaceNeeded} bytes");
                if (conv != plan.Search) conv.Dispose();
                continue;
            }
            var found = new ConvAlgorithm(algo, math, ms, workspaceNeeded);
            if (isBest) { plan.Best = found; plan.BestConv = conv; }
            if (isFused) { plan.Fused = found; plan.FusedConv = conv; }
        }
        if (plan.Best is not { } best)
            plan.Unsupported = returned == 0 ? "the search returned no algorithm" : string.Join("; ", rejected);
        else if (plan.Fused is { } fused && timed && fused.Milliseconds > best.Milliseconds * CudnnConvPlan.FusedMargin)
            plan.Fused = null; // slower than the best algorithm plus a separate bias / residual pass
        lock (s_plans)
        {
            if (s_plans.TryGetValue(spec, out var existing)) return existing; // another backend searched it meanwhile
            s_plans[spec] = plan;
        }
        return plan;
    }

    /// <summary>The workspace <paramref name="algo"/> needs in <paramref name="conv"/>'s math type, or -1 where cuDNN does not support it.</summary>
    private long WorkspaceSize(CudnnConvPlan plan, CudnnConvolutionDescriptor conv, int algo)
    {
        nuint bytes;
        int rc = _api.cudnnGetConvolutionForwardWorkspaceSize(handle, plan.X.Raw, plan.Filter.Raw, conv.Raw, plan.Y.Raw, algo, &bytes);
        if (CudnnApi.IsNotSupported(rc)) return -1;
        _api.Check(rc, $"cudnnGetConvolutionForwardWorkspaceSize({plan.Spec}, {ConvAlgorithm.AlgoName(algo)})");
        return (long)bytes;
    }

    /// <summary>
    /// y = conv(x, w) with the plan's best algorithm (the workspace at least its WorkspaceBytes). Returns false
    /// (nothing queued) when cuDNN answers "not supported" after all (a heuristic's pick it cannot run), so the caller
    /// can convolve another way; other failures throw.
    /// </summary>
    public bool TryForward(CudnnConvPlan plan, ulong x, ulong w, ulong y, ulong workspace, long workspaceBytes)
    {
        var algo = plan.Best ?? throw new InvalidOperationException($"conv {plan.Spec}: no cuDNN algorithm ({plan.Unsupported})");
        float alpha = 1, beta = 0;
        Device.MakeCurrent();
        int rc = _api.cudnnConvolutionForward(handle, &alpha, plan.X.Raw, x, plan.Filter.Raw, w, plan.BestConv!.Raw, algo.Algo,
            workspace, (nuint)workspaceBytes, &beta, plan.Y.Raw, y);
        if (CudnnApi.IsNotSupported(rc)) return false;
        _api.Check(rc, $"cudnnConvolutionForward({plan.Spec}, {ConvAlgorithm.AlgoName(algo.Algo)})");
        return true;
    }

    /// <summary>
    /// y = conv(x, w) + bias (+ residual when <paramref name="residual"/> ≠ 0) in one call
    /// (cudnnConvolutionBiasActivationForward, identity activation, IMPLICIT_PRECOMP_GEMM). Without a residual, z is
    /// y itself with alpha2 = 0 (cuDNN does not read it). Returns false (nothing queued) when cuDNN answers "not
    /// supported" for this configuration, so the caller can run the unfused path; other failures throw.
    /// </summary>
    public bool TryForwardBiasAdd(CudnnConvPlan plan, ulong x, ulong w, ulong bias, ulong residual, ulong y, ulong workspace, long workspaceBytes)
    {
        var algo = plan.Fused ?? throw new InvalidOperationException($"conv {plan.Spec}: no fused algorithm");
        float alpha1 = 1, alpha2 = residual != 0 ? 1 : 0;
        ulong z = residual != 0 ? residual : y;
        Device.MakeCurrent();
        int rc = _api.cudnnConvolutionBiasActivationForward(handle, &alpha1, plan.X.Raw, x, plan.Filter.Raw, w, plan.FusedConv!.Raw, algo.Algo,
            workspace, (nuint)workspaceBytes, &alpha2, plan.Y.Raw, z, plan.Bias.Raw, bias, Identity(_api).Raw, plan.Y.Raw, y);
        if (CudnnApi.IsNotSupported(rc)) return false;
        _api.Check(rc, $"cudnnConvolutionBiasActivationForward({plan.Spec}, {ConvAlgorithm.AlgoName(algo.Algo)}{(residual != 0 ? ", residual" : "")})");
        return true;
    }

    private static CudnnActivationDescriptor Identity(CudnnApi api)
    {
        if (s_identity is { } d) return d;
        var made = new CudnnActivationDescriptor(api);
        if (Interlocked.CompareExchange(ref s_identity, made, null) is { } other) { made.Dispose(); return other; }
        return made;
    }

    public string Version => _api.VersionText;
    public string LibraryPath => _api.LibraryPath;

    protected override bool Release() => _api.cudnnDestroy(handle) == CudnnApi.Success;
}
