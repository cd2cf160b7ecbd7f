using LayerDiffusion.Native.Backends.Cpu;
using LayerDiffusion.Native.Tensors;
using Xunit;

namespace LayerDiffusion.Native.Tests.Foundation;

/// <summary>Who frees a tensor: the scope it was created in, unless it was moved out or detached.</summary>
public sealed class TensorScopeTests
{
    private static readonly CpuBackend B = CpuBackend.Instance;

    private static bool Disposed(Tensor t)
    {
        try { _ = ((CpuTensor)t).Data; return false; }
        catch (ObjectDisposedException) { return true; }
    }

    [Fact]
    public void ScopeFreesWhatItCreatedAndKeepsWhatMovesOut()
    {
        var input = B.FromHost([1f, 2f], 2);
        Tensor temp, kept;
        using (var scope = TensorScope.Open())
        {
            temp = B.Affine(input, 2f, 0f);
            kept = scope.MoveToOuter(B.Add(temp, input));
            Assert.Same(input, scope.MoveToOuter(input)); // not its own: untouched
        }
        Assert.True(Disposed(temp));
        Assert.False(Disposed(kept));
        Assert.False(Disposed(input));
        Assert.Equal([3f, 6f], kept.Backend.ToHost(kept));
    }

    [Fact]
    public void MovingOutOfAnInnerScopeHandsTheTensorToTheOuterOne()
    {
        Tensor inner, detached;
        using (TensorScope.Open())
        {
            using (var scope = TensorScope.Open())
            {
                inner = scope.MoveToOuter(B.FromHost([1f], 1));
                detached = TensorScope.Detach(B.FromHost([2f], 1));
            }
            Assert.False(Disposed(inner));
        }
        Assert.True(Disposed(inner));
        Assert.False(Disposed(detached));
        Assert.Null(TensorScope.Current);
    }

    [Fact]
    public void WeightsBelongToNoScope()
    {
        using var scope = TensorScope.Open();
        var path = Path.Combine(Path.GetTempPath(), $"ld-scope-{Environment.ProcessId}.safetensors");
        try
        {
            new IO.SafeTensorsWriter().Add("w", DType.F32, [2], new byte[8]).Write(path);
            using var file = IO.SafeTensorsFile.Open(path);
            Tensor w;
            using (TensorScope.Open()) w = B.LoadWeight(file, "w");
            Assert.False(Disposed(w));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ChainFreesEachLinkOnceTheNextExistsButNeverItsInput()
    {
        var x = B.FromHost([1f, -1f], 2);
        var links = new List<Tensor>();
        Tensor Step(Tensor t)
        {
            var y = B.Affine(t, 2f, 1f);
            links.Add(y);
            return y;
        }
        var result = TensorScope.Chain(x, Step, Step, Step);
        Assert.False(Disposed(x));
        Assert.True(Disposed(links[0]) && Disposed(links[1]));
        Assert.Same(links[2], result);
        Assert.Equal([15f, -1f], B.ToHost(result));
    }

    [Fact]
    public void ScopesCloseInnermostFirst()
    {
        var outer = TensorScope.Open();
        var inner = TensorScope.Open();
        Assert.Throws<InvalidOperationException>(outer.Dispose);
        inner.Dispose();
        outer.Dispose();
        Assert.Null(TensorScope.Current);
    }
}
