namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// A file stream that fails like a full disk (IOException "No space left on device") once more than
/// <paramref name="budget"/> bytes have been written to it. The bytes before that reach the real file, so a test
/// sees exactly what a full disk would leave behind.
/// </summary>
internal sealed class FailingStream(string path, long budget) : Stream
{
    private readonly FileStream _file = new(path, FileMode.CreateNew, FileAccess.Write);
    private long _written;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        long room = Math.Max(0, budget - _written);
        _file.Write(buffer[..(int)Math.Min(room, buffer.Length)]);
        _written += buffer.Length;
        if (_written > budget) throw new IOException("No space left on device (simulated)");
    }

    public override void Flush() => _file.Flush();
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _written;
    public override long Position { get => _written; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>A staged-file factory whose <paramref name="failAt"/>-th file (1-based) fails after <paramref name="budget"/> bytes.</summary>
    public static Func<string, Stream> FailingAt(int failAt, long budget)
    {
        int opened = 0;
        return path => Interlocked.Increment(ref opened) == failAt ? new FailingStream(path, budget) : new FileStream(path, FileMode.CreateNew, FileAccess.Write);
    }
}
