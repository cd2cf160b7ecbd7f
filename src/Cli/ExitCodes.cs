namespace LayerDiffusion.Native.Cli;

/// <summary>
/// What `ld`'s exit code says failed (README, Reliability): 0 success, 1 failed checks or an internal error, 2 usage,
/// 3 a file that cannot be read or written, 4 a bad model file, 5 out of memory, 130 cancelled.
/// </summary>
public static class ExitCodes
{
    public const int Ok = 0, Failed = 1, Usage = 2, FileAccess = 3, ModelFile = 4, OutOfMemory = 5, Cancelled = 130;

    /// <summary>The code for an error that reached the top of a command.</summary>
    public static int For(Exception e) => e switch
    {
        OperationCanceledException => Cancelled,
        LdException ld => ld.Kind switch
        {
            ErrorKind.FileAccess => FileAccess,
            ErrorKind.ModelFile => ModelFile,
            ErrorKind.OutOfMemory => OutOfMemory,
            ErrorKind.Failure => Failed,
            _ => Usage,
        },
        IOException or UnauthorizedAccessException => FileAccess,
        OutOfMemoryException => OutOfMemory,
        _ => Failed,
    };
}
