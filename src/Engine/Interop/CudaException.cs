namespace LayerDiffusion.Native.Interop;

/// <summary>A CUDA driver or cuBLASLt call that returned an error status: names the call and the status.</summary>
public sealed class CudaException : LdException
{
    public CudaException(string call, int status, string statusName, string? detail = null)
        : base($"{call} failed: {statusName} ({status}){(string.IsNullOrEmpty(detail) ? "" : ": " + detail)}")
    {
        Kind = status == CuDriver.ErrorOutOfMemory ? ErrorKind.OutOfMemory : ErrorKind.Failure;
        Call = call;
        Status = status;
        StatusName = statusName;
    }

    public string Call { get; }
    public int Status { get; }
    public string StatusName { get; }
}
