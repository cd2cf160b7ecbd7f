using LayerDiffusion.Native.Backends.Cuda.Kernels;
using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends.Cuda;

public sealed unsafe partial class CudaBackend
{
    /// <summary>Largest im2col band buffer (bytes): bounds the extra memory of a convolution at large images.</summary>
    private const long Im2ColBudget = 256L << 20;

    /// <summary>
    /// cuBLASLt in column-major terms (see <see cref="GemmSpec"/>). Row-major callers swap operands: a row-major
    /// [r, c] matrix is a column-major c × r one with the same leading dimension.
    /// </summary>
    internal void Gemm(bool transA, bool transB, long m, long n, long k,
        ulong a, long lda, ulong b, long ldb, ulong d, long ldd, CudaDataType typeD,
        int batch = 1, long strideA = 0, long strideB = 0, long strideD = 0, ulong bias = 0, float alpha = 1, float beta = 0, ulong c = 0)
    {
        if (m == 0 || n == 0) return;
        GemmCalls++;
        _device.MakeCurrent();
        int esize = ElementSize, dsize = typeD == CudaDataType.R32F ? 4 : 2;
        int Align(ulong p, long stride, int size) =>
            batch > 1 ? Math.Min(CublasLt.Alignment(p), CublasLt.Alignment((ulong)(stride * size))) : CublasLt.Alignment(p);
        var spec = new GemmSpec(transA, transB, m, n, k, BlasType, typeD, lda, ldb, ldd, batch, strideA, strideB, strideD,
            bias != 0, Align(a, strideA, esize), Align(b, strideB, esize), Math.Min(Align(d, strideD, dsize), c == 0 ? 256 : Align(c, strideD, dsize)),
            Tf32: UseTf32 && BlasType == CudaDataType.R32F);
        if (ForceGemmFallback || !_blas.TryMatmul(spec, a, b, c == 0 ? d : c, d, bias, alpha, beta, _stream))
        {
            // The plain kernel reads C from D: start D as a copy of C (same layout: the caller's contract).
            if (c != 0 && c != d && beta != 0)
                _drv.Check(_drv.cuMemcpyDtoDAsync(d, c, (nuint)(((batch - 1) * strideD + (n - 1) * ldd + m) * dsize), _stream.Raw), "cuMemcpyDtoDAsync");
            FallbackGemm(transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, d, ldd, strideD, batch, bias, alpha, beta, typeD);
        }
        else
        {
            LibraryCalls++;
            if (s_syncEachLaunch) _stream.Synchronize();
        }
    }

    /// <summary>
    /// fp32 GEMMs on the tensor cores with TF32 operands (CUBLAS_COMPUTE_32F_FAST_TF32). Off for a backend the user asked
    /// for in fp32 (that is how kernels are proven exact); on for the fp32 sibling that runs the VAE-family networks
    /// beside an fp16 UNet (see <see cref="NetworkPrecision"/>).
    /// </summary>
    public bool UseTf32 { get; internal set; }

    /// <summary>Test hook: every GEMM through the plain kernel (kernels/gemm.cu) instead of cuBLASLt.</summary>
    public bool ForceGemmFallback { get; set; }

    /// <summary>The plain GEMM kernel, for shapes cuBLASLt has no algorithm for (same contract as <see cref="Gemm"/>).</summary>
    private void FallbackGemm(bool transA, bool transB, long m, long n, long k, ulong a, long lda, long strideA,
        ulong b, long ldb, long strideB, ulong d, long ldd, long strideD, int batch, ulong bias, float alpha, float beta, CudaDataType typeD)
    {
        int ta = transA ? 1 : 0, tb = transB ? 1 : 0;
        var grid = Stride(m * n * batch);
        if (typeD == CudaDataType.R32F && StorageType != DType.F32)
            Launch(new LdGemmOutF32(ta, tb, m, n, k, a, lda, strideA, b, ldb, strideB, d, ldd, strideD, batch, bias, alpha, beta), grid);
        else
            Launch(new LdGemm(ta, tb, m, n, k, a, lda, strideA, b, ldb, strideB, d, ldd, strideD, batch, bias, alpha, beta), grid);
    }

    private ConstantProducts? _products;

    /// <summary>Kept Linear products of held constant inputs (the cross-attention K/V cache, see <see cref="ConstantProducts"/>).</summary>
    public ConstantProducts Products => _products ??= new(t => Reshape(t, t.Shape));

    public IDisposable HoldProductsOf(IReadOnlyList<Tensor> constants) => Products.Hold(constants);

    public Tensor Linear(Tensor x, Tensor w, Tensor? bias)
    {
        if (Products.TryGet(x, w, bias) is { } kept) return kept;
        var y = New(ShapeRules.Linear(x, w, bias));
        int k = x.Dim(-1), n = w.Dim(0);
        long m = x.Count / Math.Max(1, k);
        // Row-major y[m, n] = x[m, k] · w[n, k]ᵀ  ⇔  column-major yᵀ (n × m) = w (k × n, transposed) · xᵀ (k × m).
        Gemm(true, false, n, m, k, Own(w).Ptr, k, Own(x).Ptr, k, y.Ptr, n, BlasType, bias: bias is null ? 0 : Own(bias).Ptr);
        Products.Keep(x, w, bias, y);
        return y;
    }

    /// <summary>One cuBLASLt product with C = residual, D = the new output, beta = 1: the residual add is its epilogue.</summary>
    public Tensor LinearAdd(Tensor x, Tensor w, Tensor? bias, Tensor residual)
    {
        var y = New(ShapeRules.LinearAdd(x, w, bias, residual));
        int k = x.Dim(-1), n = w.Dim(0);
        long m = x.Count / Math.Max(1, k);
        Gemm(true, false, n, m, k, Own(w).Ptr, k, Own(x).Ptr, k, y.Ptr, n, BlasType, bias: bias is null ? 0 : Own(bias).Ptr, beta: 1f, c: Own(residual).Ptr);
        return y;
    }

    public Tensor MatMul(Tensor a, Tensor b)
    {
        var y = New(ShapeRules.MatMul(a, b));
        int batch = a.Rank == 3 ? a.Dim(0) : 1;
        int m = a.Dim(-2), k = a.Dim(-1), n = b.Dim(-1);
        ulong pa = Own(a).Ptr, pb = Own(b).Ptr;
        // Row-major y[m, n] = a[m, k] · b[k, n]  ⇔  column-major yᵀ (n × m) = bᵀ (n × k) · aᵀ (k × m).
        if (b.Rank == 3 || batch == 1)
            Gemm(false, false, n, m, k, pb, n, pa, k, y.Ptr, n, BlasType, batch, (long)k * n, (long)m * k, (long)m * n);
        else // one b for every batch: the batches of a are just more rows
            Gemm(false, false, n, (long)batch * m, k, pb, n, pa, k, y.Ptr, n, BlasType);
        return y;
    }

    /// <summary>
    /// Convolution as GEMM per image: y[o, p] = W[o, kdim] · col[kdim, p], with col built by im2col for a band of
    /// output rows at a time (bounded buffer) and the band's product written straight into NCHW. A 1×1, stride-1,
    /// unpadded convolution multiplies the input directly. The fallback of <see cref="Conv2d"/> where cuDNN is missing.
    /// </summary>
    private CudaTensor Conv2dIm2col(Tensor x, Tensor w, Tensor? bias, int stride, int padding)
    {
        var y = New(ShapeRules.Conv2d(x, w, bias, stride, padding));
        int n = x.Dim(0), ci = x.Dim(1), h = x.Dim(2), wd = x.Dim(3);
        int co = w.Dim(0), kh = w.Dim(2), kw = w.Dim(3), ho = y.Dim(2), wo = y.Dim(3);
        long kdim = (long)ci * kh * kw, plane = (long)ho * wo;
        ulong px = Own(x).Ptr, pw = Own(w).Ptr;
        int es = ElementSize;
        bool direct = kh == 1 && kw == 1 && stride == 1 && padding == 0;
        if (direct)
        {
            // Column-major: y_b (plane × co, ld plane) = x_b (plane × ci, ld plane) · Wᵀ (ci × co: W [co, ci] as stored).
            for (int b = 0; b < n; b++)
                Gemm(false, false, plane, co, ci, px + (ulong)((long)b * ci * h * wd * es), plane, pw, ci,
                    y.Ptr + (ulong)((long)b * co * plane * es), plane, BlasType);
        }
        else
        {
            int bandRows = (int)Math.Clamp(Im2ColBudget / Math.Max(1, kdim * wo * es), 1, ho);
            var col = Scratch(kdim * bandRows * wo * es);
            try
            {
                for (int b = 0; b < n; b++)
                {
                    ulong xb = px + (ulong)((long)b * ci * h * wd * es);
                    for (int r0 = 0; r0 < ho; r0 += bandRows)
                    {
                        int rows = Math.Min(bandRows, ho - r0);
                        long p = (long)rows * wo;
                        Launch(new LdIm2col(xb, col.Ptr, ci, h, wd, kh, kw, stride, padding, r0, rows, wo),
                            new Grid((uint)((wo + 255) / 256), 256, (uint)Math.Min(kdim, 65535), (uint)Math.Min(rows, 65535)));
                        // Column-major: y band (p × co, ld plane) = col (p × kdim, ld p) · Wᵀ (kdim × co, ld kdim).
                        Gemm(false, false, p, co, kdim, col.Ptr, p, pw, kdim,
                            y.Ptr + (ulong)(((long)b * co * plane + (long)r0 * wo) * es), plane, BlasType);
                    }
                }
            }
            finally { col.Release(); }
        }
        if (bias is not null)
        {
            ChannelBias(y, bias, co, plane);
        }
        return y;
    }
}
