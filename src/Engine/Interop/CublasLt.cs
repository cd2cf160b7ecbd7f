using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Interop;

/// <summary>cudaDataType_t values the engine uses.</summary>
public enum CudaDataType { R32F = 0, R16F = 2, R16BF = 14 }

/// <summary>
/// One matrix product in cuBLAS's column-major terms: D[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C, with C
/// laid out like D (the same buffer, or another one such as a residual), optional bias per row of D (per output feature), strided batches, and fp32 accumulation (CUBLAS_COMPUTE_32F:
/// strict fp32 for fp32 operands; with <c>Tf32</c>, CUBLAS_COMPUTE_32F_FAST_TF32: fp32 operands rounded to TF32 on
/// the tensor cores). Alignments are the largest power of two (≤ 256) dividing each pointer,
/// since cuBLASLt's heuristic otherwise assumes 256-byte-aligned operands and sub-matrix views are not.
/// </summary>
public readonly record struct GemmSpec(
    bool TransA, bool TransB, long M, long N, long K,
    CudaDataType TypeAB, CudaDataType TypeD,
    long Lda, long Ldb, long Ldd,
    int Batch, long StrideA, long StrideB, long StrideD,
    bool Bias, int AlignA, int AlignB, int AlignD, bool Tf32 = false);

/// <summary>
/// cuBLASLt (libcublasLt.so.13, else .12; LD_CUBLASLT_PATH overrides) through function pointers. Plans (descriptor,
/// layouts, the heuristic's candidate algorithms) are cached per <see cref="GemmSpec"/>, so the heuristic runs once
/// per shape; the first product of a shape times the candidates and keeps the fastest (CublasLt.Tuning.cs).
/// </summary>
public sealed unsafe partial class CublasLt : CudaHandle
{
    private const int ComputeF32 = 68, ComputeF32FastTf32 = 77; // CUBLAS_COMPUTE_32F, CUBLAS_COMPUTE_32F_FAST_TF32
    private const int DescTransA = 3, DescTransB = 4, DescEpilogue = 7, DescBiasPointer = 8;
    private const int LayoutBatchCount = 5, LayoutStridedBatchOffset = 6;
    private const int PrefMaxWorkspace = 1, PrefAlignA = 5, PrefAlignB = 6, PrefAlignC = 7, PrefAlignD = 8;
    private const int EpilogueDefault = 1, EpilogueBias = 4;
    // cublasLtMatmulHeuristicResult_t: algo (8 × uint64), size_t workspaceSize, cublasStatus_t state, float
    // wavesCount, int reserved[4]: 96 bytes, the stride of the results array the heuristic fills.
    private const int HeuristicResultBytes = 96, ResultWorkspaceOffset = 64, ResultStateOffset = 72;
    public const long WorkspaceBytes = 32L << 20;

    private readonly Api _api;
    private readonly Dictionary<GemmSpec, Plan?> _plans = new(); // null: the heuristic has no algorithm for the spec
    private readonly DeviceMemory _workspace;

    private sealed class Api
    {
        public delegate* unmanaged<nint*, int> Create;
        public delegate* unmanaged<nint, int> Destroy;
        public delegate* unmanaged<nuint> GetVersion;
        public delegate* unmanaged<int, byte*> GetStatusName;
        public delegate* unmanaged<nint*, int, int, int> MatmulDescCreate;
        public delegate* unmanaged<nint, int> MatmulDescDestroy;
        public delegate* unmanaged<nint, int, void*, nuint, int> MatmulDescSetAttribute;
        public delegate* unmanaged<nint*, int, ulong, ulong, long, int> MatrixLayoutCreate;
        public delegate* unmanaged<nint, int> MatrixLayoutDestroy;
        public delegate* unmanaged<nint, int, void*, nuint, int> MatrixLayoutSetAttribute;
        public delegate* unmanaged<nint*, int> PreferenceCreate;
        public delegate* unmanaged<nint, int> PreferenceDestroy;
        public delegate* unmanaged<nint, int, void*, nuint, int> PreferenceSetAttribute;
        public delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, int, void*, int*, int> AlgoGetHeuristic;
        public delegate* unmanaged<nint, nint, void*, ulong, nint, ulong, nint, void*, ulong, nint, ulong, nint, void*, ulong, nuint, nint, int> Matmul;
        public string Path = "";
    }

    private sealed class Plan
    {
        public nint Desc, A, B, D;
        /// <summary>The heuristic's usable results, best guess first (each a whole heuristic result).</summary>
        public List<byte[]> Candidates = [];
        public int Chosen;
        /// <summary>Set once the candidates were timed (or there was nothing to choose).</summary>
        public bool Tuned;
        public byte[] Algo => Candidates[Chosen];
        public ulong WorkspaceSize => BitConverter.ToUInt64(Algo, ResultWorkspaceOffset);
    }

    private static readonly Lazy<(Api? Api, string Why)> s_api = new(LoadApi);

    private CublasLt(CudaDevice device, Api api) : base(device)
    {
        _api = api;
        device.MakeCurrent();
        nint h;
        Check(api.Create(&h), "cublasLtCreate");
        SetHandle(h);
        _workspace = new DeviceMemory(device, WorkspaceBytes);
    }

    public string LibraryPath => _api.Path;
    public long Version => (long)_api.GetVersion();

    /// <summary>cuBLASLt on <paramref name="device"/>, or null with the reason (library missing or too old).</summary>
    public static CublasLt? TryCreate(CudaDevice device, out string why)
    {
        var (api, w) = s_api.Value;
        why = w;
        return api is null ? null : new CublasLt(device, api);
    }

    private static (Api?, string) LoadApi()
    {
        var lib = NativeLib.TryOpen("LD_CUBLASLT_PATH", ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so", "cublasLt64_13.dll", "cublasLt64_12.dll"], out string why);
        if (lib is null) return (null, why);
        try
        {
            var a = new Api
            {
                Path = lib.Path,
                Create = (delegate* unmanaged<nint*, int>)lib.Export("cublasLtCreate"),
                Destroy = (delegate* unmanaged<nint, int>)lib.Export("cublasLtDestroy"),
                GetVersion = (delegate* unmanaged<nuint>)lib.Export("cublasLtGetVersion"),
                GetStatusName = (delegate* unmanaged<int, byte*>)lib.Export("cublasLtGetStatusName"),
                MatmulDescCreate = (delegate* unmanaged<nint*, int, int, int>)lib.Export("cublasLtMatmulDescCreate"),
                MatmulDescDestroy = (delegate* unmanaged<nint, int>)lib.Export("cublasLtMatmulDescDestroy"),
                MatmulDescSetAttribute = (delegate* unmanaged<nint, int, void*, nuint, int>)lib.Export("cublasLtMatmulDescSetAttribute"),
                MatrixLayoutCreate = (delegate* unmanaged<nint*, int, ulong, ulong, long, int>)lib.Export("cublasLtMatrixLayoutCreate"),
                MatrixLayoutDestroy = (delegate* unmanaged<nint, int>)lib.Export("cublasLtMatrixLayoutDestroy"),
                MatrixLayoutSetAttribute = (delegate* unmanaged<nint, int, void*, nuint, int>)lib.Export("cublasLtMatrixLayoutSetAttribute"),
                PreferenceCreate = (delegate* unmanaged<nint*, int>)lib.Export("cublasLtMatmulPreferenceCreate"),
                PreferenceDestroy = (delegate* unmanaged<nint, int>)lib.Export("cublasLtMatmulPreferenceDestroy"),
                PreferenceSetAttribute = (delegate* unmanaged<nint, int, void*, nuint, int>)lib.Export("cublasLtMatmulPreferenceSetAttribute"),
                AlgoGetHeuristic = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, int, void*, int*, int>)lib.Export("cublasLtMatmulAlgoGetHeuristic"),
                Matmul = (delegate* unmanaged<nint, nint, void*, ulong, nint, ulong, nint, void*, ulong, nint, ulong, nint, void*, ulong, nuint, nint, int>)lib.Export("cublasLtMatmul"),
            };
            return (a, "");
        }
        catch (LdException e)
        {
            return (null, e.Message);
        }
    }

    private void Check(int status, string call)
    {
        if (status == 0) return;
        byte* name = _api.GetStatusName(status);
        throw new CudaException(call, status, name == null ? "CUBLAS_STATUS_UNKNOWN" : Marshal.PtrToStringUTF8((nint)name) ?? "?");
    }

    /// <summary>Largest power of two ≤ 256 dividing the address (what the heuristic may assume).</summary>
    public static int Alignment(ulong ptr)
    {
        int a = 256;
        while (a > 1 && ptr % (ulong)a != 0) a >>= 1;
        return a;
    }

    /// <summary>
    /// Runs D = alpha·op(A)·op(B) + beta·C (+ bias) on <paramref name="stream"/>, C laid out like D (c = d for an
    /// in-place update); false (nothing queued) when the heuristic has no algorithm for this shape and alignment, so
    /// the caller can use another GEMM. AlignD covers C as well.
    /// </summary>
    public bool TryMatmul(in GemmSpec spec, ulong a, ulong b, ulong c, ulong d, ulong bias, float alpha, float beta, CudaStream stream)
    {
        Plan? plan;
        lock (_plans)
            if (!_plans.TryGetValue(spec, out plan)) _plans[spec] = plan = MakePlan(spec);
        if (plan is null) return false;
        if (spec.Bias)
            Check(_api.MatmulDescSetAttribute(plan.Desc, DescBiasPointer, &bias, (nuint)sizeof(ulong)), "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
        // Timing runs the product several times: only where that leaves the same result (D not read back as C).
        if (!plan.Tuned && (beta == 0 || c != d)) Tune(plan, spec, a, b, c, d, alpha, beta, stream);
        Check(Run(plan, plan.Chosen, a, b, c, d, alpha, beta, stream), $"cublasLtMatmul(m={spec.M} n={spec.N} k={spec.K} batch={spec.Batch})");
        return true;
    }

    private int Run(Plan plan, int candidate, ulong a, ulong b, ulong c, ulong d, float alpha, float beta, CudaStream stream)
    {
        var result = plan.Candidates[candidate];
        ulong ws = BitConverter.ToUInt64(result, ResultWorkspaceOffset);
        fixed (byte* algo = result)
            return _api.Matmul(handle, plan.Desc, &alpha, a, plan.A, b, plan.B, &beta, c, plan.D, d, plan.D, algo, _workspace.Ptr, (nuint)ws, stream.Raw);
    }

    private const int StatusNotSupported = 15;

    private Plan? MakePlan(in GemmSpec s)
    {
        var p = new Plan();
        nint desc;
        Check(_api.MatmulDescCreate(&desc, s.Tf32 ? ComputeF32FastTf32 : ComputeF32, (int)CudaDataType.R32F), "cublasLtMatmulDescCreate");
        p.Desc = desc;
        int ta = s.TransA ? 1 : 0, tb = s.TransB ? 1 : 0, epi = s.Bias ? EpilogueBias : EpilogueDefault;
        Check(_api.MatmulDescSetAttribute(desc, DescTransA, &ta, sizeof(int)), "cublasLtMatmulDescSetAttribute(TRANSA)");
        Check(_api.MatmulDescSetAttribute(desc, DescTransB, &tb, sizeof(int)), "cublasLtMatmulDescSetAttribute(TRANSB)");
        Check(_api.MatmulDescSetAttribute(desc, DescEpilogue, &epi, sizeof(int)), "cublasLtMatmulDescSetAttribute(EPILOGUE)");
        if (s.Bias)
        {
            // The heuristic reads the bias pointer's value for its alignment: give it a 256-aligned placeholder.
            ulong dummy = 256;
            Check(_api.MatmulDescSetAttribute(desc, DescBiasPointer, &dummy, sizeof(ulong)), "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
        }
        // Stored shapes: op(A) is m×k, so A itself is m×k (k×m when transposed); likewise B.
        p.A = Layout(s.TypeAB, s.TransA ? s.K : s.M, s.TransA ? s.M : s.K, s.Lda, s.Batch, s.StrideA);
        p.B = Layout(s.TypeAB, s.TransB ? s.N : s.K, s.TransB ? s.K : s.N, s.Ldb, s.Batch, s.StrideB);
        p.D = Layout(s.TypeD, s.M, s.N, s.Ldd, s.Batch, s.StrideD);

        nint pref;
        Check(_api.PreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
        try
        {
            ulong ws = (ulong)WorkspaceBytes;
            uint aa = (uint)s.AlignA, ab = (uint)s.AlignB, ad = (uint)s.AlignD;
            Check(_api.PreferenceSetAttribute(pref, PrefMaxWorkspace, &ws, sizeof(ulong)), "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)");
            Check(_api.PreferenceSetAttribute(pref, PrefAlignA, &aa, sizeof(uint)), "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_A)");
            Check(_api.PreferenceSetAttribute(pref, PrefAlignB, &ab, sizeof(uint)), "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_B)");
            Check(_api.PreferenceSetAttribute(pref, PrefAlignC, &ad, sizeof(uint)), "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_C)");
            Check(_api.PreferenceSetAttribute(pref, PrefAlignD, &ad, sizeof(uint)), "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_D)");
            int found = 0, rc;
            var results = new byte[TuneCandidates * HeuristicResultBytes];
            fixed (byte* result = results)
                rc = _api.AlgoGetHeuristic(handle, desc, p.A, p.B, p.D, p.D, pref, TuneCandidates, result, &found);
            for (int i = 0; rc == 0 && i < found; i++)
            {
                var r = results.AsSpan(i * HeuristicResultBytes, HeuristicResultBytes);
                if (BitConverter.ToInt32(r[ResultStateOffset..]) == 0 && BitConverter.ToUInt64(r[ResultWorkspaceOffset..]) <= (ulong)WorkspaceBytes)
                    p.Candidates.Add(r.ToArray());
            }
            if (rc == StatusNotSupported || (rc == 0 && p.Candidates.Count == 0))
            {
                Destroy(p);
                return null;
            }
            Check(rc, "cublasLtMatmulAlgoGetHeuristic");
            p.Tuned = p.Candidates.Count == 1 || !s_tune || TryReuseChoice(s, p);
        }
        finally
        {
            _api.PreferenceDestroy(pref);
        }
        return p;
    }

    private nint Layout(CudaDataType type, long rows, long cols, long ld, int batch, long stride)
    {
        nint l;
        Check(_api.MatrixLayoutCreate(&l, (int)type, (ulong)rows, (ulong)cols, ld), "cublasLtMatrixLayoutCreate");
        if (batch > 1)
        {
            Check(_api.MatrixLayoutSetAttribute(l, LayoutBatchCount, &batch, sizeof(int)), "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)");
            Check(_api.MatrixLayoutSetAttribute(l, LayoutStridedBatchOffset, &stride, sizeof(long)), "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)");
        }
        return l;
    }

    private void Destroy(Plan p)
    {
        _api.MatrixLayoutDestroy(p.A);
        _api.MatrixLayoutDestroy(p.B);
        _api.MatrixLayoutDestroy(p.D);
        _api.MatmulDescDestroy(p.Desc);
    }

    protected override bool Release()
    {
        foreach (var p in _plans.Values)
            if (p is not null) Destroy(p);
        _plans.Clear();
        _workspace.Dispose();
        return _api.Destroy(handle) == 0;
    }
}
