using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>Which attention implementation runs (LD_ATTENTION=auto|simt|mma|mma2|gemm picks it for a process).</summary>
public enum AttentionKernel
{
    /// <summary>
    /// The default, from H200 timings: tensor cores for head width 64 in fp16 / bf16, the SIMT flash kernel for head
    /// width 8, the general GEMM path otherwise (fp32 head width 64 included).
    /// </summary>
    Auto,
    /// <summary>The SIMT flash kernels for head widths 64 and 8 in every precision, the general path otherwise.</summary>
    Simt,
    /// <summary>Tensor cores (mma.sync) for head width 64 in fp16 / bf16; otherwise as Auto.</summary>
    Mma,
    /// <summary>
    /// The pipelined tensor-core kernel (kernels/attention_mma2.cu: cp.async double buffering, ldmatrix) for head
    /// width 64 in fp16 / bf16; otherwise as Auto. Not the default until a GPU run has checked and timed it.
    /// </summary>
    Mma2,
    /// <summary>The general path everywhere: GEMM, masked softmax, GEMM.</summary>
    Gemm,
}

public sealed unsafe partial class CudaBackend
{
    /// <summary>The attention implementation (tests and timings switch it; LD_ATTENTION sets the initial value).</summary>
    public AttentionKernel AttentionKernel { get; set; } = ParseAttentionKernel(Environment.GetEnvironmentVariable("LD_ATTENTION"));

    private static AttentionKernel ParseAttentionKernel(string? s) => s?.ToLowerInvariant() switch
    {
        null or "" or "auto" => AttentionKernel.Auto,
        "simt" => AttentionKernel.Simt,
        "mma" => AttentionKernel.Mma,
        "mma2" => AttentionKernel.Mma2,
        "gemm" or "general" => AttentionKernel.Gemm,
        _ => throw new InvalidOptionException("LD_ATTENTION", $"'{s}' is not one of auto, simt, mma, mma2, gemm"),
    };

    /// <summary>Largest fp32 score block of the general attention path (bytes).</summary>
    private const long ScoreBudget = 256L << 20;

    /// <summary>
    /// Head width 64 in fp16 / bf16 runs the tensor-core flash kernel (kernels/attention_mma.cu); head widths 64 and 8
    /// otherwise run the SIMT flash kernels (kernels/attention.cu); any other width (the VAE's 512-wide head) runs the
    /// general path: per batch and query chunk, S = Q·Kᵀ in fp32 for all heads at once (strided
    /// batches over heads), masked scaled softmax into the storage dtype, then O = P·V written into [B, N, H·D].
    /// </summary>
    public Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, bool causal)
    {
        var y = New(ShapeRules.Attention(q, k, v, heads));
        int b = q.Dim(0), nq = q.Dim(1), width = q.Dim(2), nk = k.Dim(1);
        int d = width / heads;
        if (y.Count == 0 || nk == 0) return y;
        float scale = 1f / MathF.Sqrt(d);
        ulong pq = Own(q).Ptr, pk = Own(k).Ptr, pv = Own(v).Ptr, py = y.Ptr;
        int causalFlag = causal ? 1 : 0;
        if (AttentionKernel == AttentionKernel.Mma2 && d == 64 && StorageType != DType.F32 && ((pq | pk | pv | py) & 15) == 0)
        {
            // 8 warps (128 queries) share each K/V tile; 4 warps when that would leave SMs idle (fewer than two blocks each).
            bool wide = (long)((nq + 127) / 128) * heads * b >= 2L * _device.MultiprocessorCount;
            int bq = wide ? 128 : 64;
            void** m2args = stackalloc void*[] { &pq, &pk, &pv, &py, &nq, &nk, &heads, &scale, &causalFlag };
            Launch((wide ? "ld_flash_mma2_d64_w8_" : "ld_flash_mma2_d64_w4_") + _sfx, (uint)((nq + bq - 1) / bq), (uint)(bq * 2), m2args,
                gridY: (uint)heads, gridZ: (uint)b);
            return y;
        }
        if ((AttentionKernel is AttentionKernel.Auto or AttentionKernel.Mma or AttentionKernel.Mma2) && d == 64 && StorageType != DType.F32)
        {
            void** margs = stackalloc void*[] { &pq, &pk, &pv, &py, &nq, &nk, &heads, &scale, &causalFlag };
            Launch("ld_flash_mma_d64_" + _sfx, (uint)((nq + 63) / 64), 128, margs, gridY: (uint)heads, gridZ: (uint)b);
            return y;
        }
        // fp32 head width 64: the GEMM path measured 4.1 ms against the SIMT kernel's 9.6 ms (b2 h10 q4096, H200,
        // perf/RESULTS.md), so Auto takes it; head width 8 stays on SIMT (0.77 ms against 4.7 ms).
        bool simt = AttentionKernel == AttentionKernel.Simt
            || (AttentionKernel != AttentionKernel.Gemm && (d == 8 || (d == 64 && StorageType != DType.F32)));
        if (simt && (d == 64 || d == 8))
        {
            int bq = d == 64 ? 64 : 128;
            void** args = stackalloc void*[] { &pq, &pk, &pv, &py, &nq, &nk, &heads, &scale, &causalFlag };
            Launch(d == 64 ? "ld_flash_d64_" + _sfx : "ld_flash_d8_" + _sfx, (uint)((nq + bq - 1) / bq), (uint)bq, args, gridY: (uint)heads, gridZ: (uint)b);
            return y;
        }
        GeneralAttention(pq, pk, pv, py, b, nq, nk, heads, d, scale, causal);
        return y;
    }

    private void GeneralAttention(ulong pq, ulong pk, ulong pv, ulong py, int b, int nq, int nk, int heads, int d, float scale, bool causal)
    {
        long width = (long)heads * d;
        int es = ElementSize;
        int qc = (int)Math.Clamp(ScoreBudget / (4L * heads * nk), 1, nq);
        var scores = Scratch(4L * heads * qc * nk);
        var probs = Scratch((long)es * heads * qc * nk);
        ulong ps = scores.Ptr, pp = probs.Ptr;
        int c = causal ? 1 : 0, q0 = 0, rows = 0;
        void** args = stackalloc void*[] { &ps, &pp, &nk, &scale, &c, &q0, &rows };
        try
        {
            for (int bi = 0; bi < b; bi++)
            {
                for (q0 = 0; q0 < nq; q0 += qc)
                {
                    rows = Math.Min(qc, nq - q0);
                    ulong qb = pq + (ulong)(((long)bi * nq + q0) * width * es);
                    ulong kb = pk + (ulong)((long)bi * nk * width * es);
                    ulong vb = pv + (ulong)((long)bi * nk * width * es);
                    ulong ob = py + (ulong)(((long)bi * nq + q0) * width * es);
                    // Row-major S_h[rows, nk] = Q_h[rows, d] · K_hᵀ  ⇔  column-major S_hᵀ (nk × rows) = K_h (d × nk, T) · Q_hᵀ (d × rows).
                    Gemm(true, false, nk, rows, d, kb, width, qb, width, scores.Ptr, nk, CudaDataType.R32F,
                        batch: heads, strideA: d, strideB: d, strideD: (long)rows * nk);
                    Launch("ld_attn_softmax_" + _sfx, (uint)(heads * rows), RowBlock(nk), args);
                    // Row-major O_h[rows, d] = P_h[rows, nk] · V_h[nk, d]  ⇔  column-major O_hᵀ (d × rows) = V_hᵀ (d × nk) · P_hᵀ (nk × rows).
                    Gemm(false, false, d, rows, nk, vb, width, pp, nk, ob, width, BlasType,
                        batch: heads, strideA: d, strideB: (long)rows * nk, strideD: d);
                }
            }
        }
        finally
        {
            scores.Release();
            probs.Release();
        }
    }
}
