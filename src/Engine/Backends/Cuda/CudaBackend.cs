using LayerDiffusion.Native.Interop;
using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tensors;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Backends.Cuda;

/// <summary>
/// The GPU backend: every op of <see cref="IBackend"/> as kernels from kernels/*.cu and cuBLASLt products, all ordered
/// on one stream. One storage dtype per backend (fp32, fp16 or bf16), weights included; every reduction and every
/// product accumulates in fp32. Activations come from a caching pool with peak tracking (<see cref="Pool"/>).
/// Convolutions run on cuDNN 9 where libcudnn.so.9 loads (CudaBackend.Conv.cs), else as im2col + cuBLASLt GEMM.
/// </summary>
public sealed unsafe partial class CudaBackend : IBackend
{
    private readonly CudaDevice _device;
    private readonly CuDriver _drv;
    private readonly CudaStream _stream;
    private readonly CublasLt _blas;
    private readonly KernelLibrary _kernels;
    private bool _disposed;

    private CudaBackend(CudaDevice device, CublasLt blas, Precision precision)
    {
        _device = device;
        _drv = device.Driver;
        _blas = blas;
        Precision = precision;
        StorageType = precision switch { Precision.Fp16 => DType.F16, Precision.Bf16 => DType.BF16, _ => DType.F32 };
        _stream = new CudaStream(device);
        _kernels = new KernelLibrary(device);
        Pool = new DevicePool(device);
        Name = $"cuda ({device.Describe()}, {precision.ToString().ToLowerInvariant()}, kernels: {_kernels.Origin}, {Path.GetFileName(blas.LibraryPath)}, {ConvolutionSummary()}, {GraphSummary()})";
    }

    public string Name { get; }
    public Precision Precision { get; }
    public DType StorageType { get; }
    public DevicePool Pool { get; }
    public CudaDevice Device => _device;
    public CudaStream Stream => _stream;
    internal int ElementSize => DTypes.Size(StorageType);
    internal CudaDataType BlasType => StorageType switch { DType.F16 => CudaDataType.R16F, DType.BF16 => CudaDataType.R16BF, _ => CudaDataType.R32F };

    /// <summary>A backend on the default GPU, or (null, why) when there is no usable GPU, driver or cuBLASLt.</summary>
    public static (IBackend? Backend, string? Why) TryCreate(Precision precision)
    {
        var device = CudaDevice.TryGetDefault(out string why);
        if (device is null) return (null, why);
        if (device.ComputeMajor < 8)
            return (null, $"{device.Name} is sm_{device.ComputeMajor}{device.ComputeMinor}; the kernels need sm_80 or newer");
        try
        {
            device.MakeCurrent();
            var blas = CublasLt.TryCreate(device, out why);
            if (blas is null) return (null, why);
            return (new CudaBackend(device, blas, precision), null);
        }
        catch (LdException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>Says whether a GPU backend could be created here, without creating one.</summary>
    public static bool IsAvailable(out string why)
    {
        var device = CudaDevice.TryGetDefault(out why);
        return device is not null;
    }

    internal static CudaTensor C(Tensor t) =>
        t as CudaTensor ?? throw new ArgumentException($"tensor {t} does not belong to a CUDA backend");

    private CudaTensor Own(Tensor t)
    {
        var c = C(t);
        if (!ReferenceEquals(c.Backend, this)) throw new ArgumentException($"tensor {t} belongs to another CUDA backend ({c.Backend.Name})");
        return c;
    }

    /// <summary>A new tensor: an activation owned by the current scope, or a weight, which its loader owns.</summary>
    internal CudaTensor New(int[] shape, bool weight = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _device.MakeCurrent();
        var buffer = new DeviceBuffer(Pool, Tensors.Shape.Count(shape) * ElementSize, weight);
        var t = new CudaTensor(this, buffer, StorageType, shape);
        return weight ? TensorScope.Detach(t) : t;
    }

    /// <summary>Scratch device memory for one op (returned to the pool when disposed; stream order makes reuse safe).</summary>
    internal DeviceBuffer Scratch(long bytes)
    {
        _device.MakeCurrent();
        return new DeviceBuffer(Pool, bytes, weight: false);
    }

    public Tensor FromHost(ReadOnlySpan<float> data, params int[] shape)
    {
        var shp = (int[])shape.Clone();
        if (data.Length != Tensors.Shape.Count(shp)) throw new ArgumentException($"{data.Length} values for shape {Tensors.Shape.Format(shp)}");
        var y = New(shp);
        long bytes = (long)data.Length * sizeof(float);
        if (data.Length == 0) return y;
        if (StorageType == DType.F32)
        {
            fixed (float* p = data) _drv.Check(_drv.cuMemcpyHtoDAsync(y.Ptr, UploadSource(data, p), (nuint)bytes, _stream.Raw), "cuMemcpyHtoDAsync");
            return y;
        }
        var tmp = Scratch(bytes);
        try
        {
            fixed (float* p = data) _drv.Check(_drv.cuMemcpyHtoDAsync(tmp.Ptr, UploadSource(data, p), (nuint)bytes, _stream.Raw), "cuMemcpyHtoDAsync");
            Cast(tmp.Ptr, DType.F32, y.Ptr, StorageType, data.Length);
        }
        finally { tmp.Release(); }
        return y;
    }

    public float[] ToHost(Tensor t)
    {
        var x = Own(t);
        var result = new float[x.Count];
        if (result.Length == 0) return result;
        _device.MakeCurrent();
        long bytes = (long)result.Length * sizeof(float);
        DeviceBuffer? tmp = null;
        try
        {
            ulong src = x.Ptr;
            if (StorageType != DType.F32)
            {
                tmp = Scratch(bytes);
                Cast(x.Ptr, StorageType, tmp.Ptr, DType.F32, result.Length);
                src = tmp.Ptr;
            }
            fixed (float* p = result) _drv.Check(_drv.cuMemcpyDtoHAsync(p, src, (nuint)bytes, _stream.Raw), "cuMemcpyDtoHAsync");
            _stream.Synchronize();
        }
        finally { tmp?.Release(); }
        return result;
    }

    public Tensor Reshape(Tensor x, params int[] shape)
    {
        var c = Own(x);
        var shp = ShapeRules.Reshape(x, shape);
        c.Buffer.AddRef();
        return new CudaTensor(this, c.Buffer, c.DType, shp);
    }

    /// <summary>Loads (JIT-compiles) every kernel module now; returns the modules that failed, with their errors.</summary>
    public IReadOnlyList<string> LoadKernels() => _kernels.LoadAll();

    /// <summary>Waits for all queued work (timing, tests).</summary>
    public void Synchronize() => _stream.Synchronize();

    private CudaBackend? _fp32Sibling;

    /// <summary>The fp32 sibling beside an fp16 backend (see <see cref="NetworkPrecision"/>), else this backend.</summary>
    public IBackend VaeFamily => Precision == Precision.Fp16 ? Fp32Sibling() : this;

    /// <summary>
    /// An fp32 backend on the same device for networks that must not run in fp16 (see <see cref="NetworkPrecision"/>);
    /// created on first use, disposed with this one. Tensors move between the two through the host.
    /// </summary>
    internal IBackend Fp32Sibling()
    {
        if (StorageType == DType.F32) return this;
        if (_fp32Sibling is null)
        {
            var (b, why) = TryCreate(Precision.Fp32);
            _fp32Sibling = b as CudaBackend ?? throw new LdException($"could not create the fp32 CUDA backend for the VAE: {why}")
                { Kind = why?.Contains(Interop.DeviceMemory.OutOfMemoryText, StringComparison.Ordinal) == true ? ErrorKind.OutOfMemory : ErrorKind.Failure };
            // TF32 tensor cores for its GEMMs unless LD_VAE_TF32=0 (see NetworkPrecision for the measured errors).
            _fp32Sibling.UseTf32 = Environment.GetEnvironmentVariable("LD_VAE_TF32") is not "0";
        }
        return _fp32Sibling;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _fp32Sibling?.Dispose();
        try { _stream.Synchronize(); } catch (CudaException) { /* a failed kernel already reported; still release */ }
        foreach (var h in (IEnumerable<IDisposable>?)_staging ?? []) h.Dispose();
        foreach (var h in (IEnumerable<IDisposable>?)_stagingFree ?? []) h.Dispose();
        _kernels.Dispose();
        _blas.Dispose();
        _cudnn?.Dispose();
        _stream.Dispose();
        Pool.Dispose();
    }
}
