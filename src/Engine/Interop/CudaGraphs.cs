namespace LayerDiffusion.Native.Interop;

/// <summary>
/// A stream capture in progress (cuStreamBeginCapture_v2, global mode): work queued on the stream is recorded, not
/// run, until <see cref="End"/> turns it into a <see cref="CudaGraph"/>. While it lasts, calls CUDA deems unsafe
/// (allocating or freeing device memory, synchronising) fail and invalidate the capture; <see cref="Dispose"/>
/// without <see cref="End"/> (an exception mid-capture) ends the capture and drops what it recorded, so the stream
/// runs work again.
/// </summary>
public sealed unsafe class StreamCapture : IDisposable
{
    private readonly CudaStream _stream;
    private bool _ended;

    public StreamCapture(CudaStream stream)
    {
        _stream = stream;
        var drv = stream.Device.Driver;
        stream.Device.MakeCurrent();
        drv.Check(drv.cuStreamBeginCapture(stream.Raw, CuDriver.CaptureModeGlobal), "cuStreamBeginCapture_v2");
    }

    /// <summary>Ends the capture: the recorded graph, or the error that invalidated it (CUDA_ERROR_STREAM_CAPTURE_INVALIDATED).</summary>
    public CudaGraph End()
    {
        _ended = true;
        var drv = _stream.Device.Driver;
        nint g;
        int rc = drv.cuStreamEndCapture(_stream.Raw, &g);
        if (rc != CuDriver.Success && g != 0) drv.cuGraphDestroy(g);
        drv.Check(rc, "cuStreamEndCapture");
        return new CudaGraph(_stream.Device, g);
    }

    public void Dispose()
    {
        if (_ended) return;
        _ended = true;
        var drv = _stream.Device.Driver;
        nint g;
        if (drv.cuStreamEndCapture(_stream.Raw, &g) == CuDriver.Success && g != 0) drv.cuGraphDestroy(g);
    }
}

/// <summary>A captured graph (cuGraphDestroy on release): instantiate it to launch it.</summary>
public sealed unsafe class CudaGraph : CudaHandle
{
    internal CudaGraph(CudaDevice device, nint graph) : base(device) => SetHandle(graph);

    /// <summary>Nodes recorded (kernels, copies, memsets, library calls' kernels).</summary>
    public long NodeCount
    {
        get
        {
            nuint n;
            Driver.Check(Driver.cuGraphGetNodes(handle, null, &n), "cuGraphGetNodes");
            return (long)n;
        }
    }

    /// <summary>The executable graph (cuGraphInstantiateWithFlags, no flags).</summary>
    public CudaGraphExec Instantiate()
    {
        Device.MakeCurrent();
        nint e;
        Driver.Check(Driver.cuGraphInstantiateWithFlags(&e, handle, 0), "cuGraphInstantiateWithFlags");
        return new CudaGraphExec(Device, e);
    }

    protected override bool Release() => Driver.cuGraphDestroy(handle) == CuDriver.Success;
}

/// <summary>An instantiated graph (cuGraphExecDestroy on release), launched as one unit of work on a stream.</summary>
public sealed unsafe class CudaGraphExec : CudaHandle
{
    internal CudaGraphExec(CudaDevice device, nint exec) : base(device) => SetHandle(exec);

    public void Launch(CudaStream stream) => Driver.Check(Driver.cuGraphLaunch(handle, stream.Raw), "cuGraphLaunch");

    protected override bool Release() => Driver.cuGraphExecDestroy(handle) == CuDriver.Success;
}
