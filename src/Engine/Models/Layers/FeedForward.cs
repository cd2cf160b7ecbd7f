namespace LayerDiffusion.Native.Models.Layers;

/// <summary>The activation between a feed-forward's two projections.</summary>
public enum FeedForwardKind
{
    /// <summary>sgm FeedForward with GEGLU: the first projection is twice as wide (value half first, exact GELU on the gate).</summary>
    Geglu,
    /// <summary>x · sigmoid(1.702 x) (CLIP-L).</summary>
    QuickGelu,
    /// <summary>Exact GELU (OpenCLIP-G).</summary>
    Gelu,
}

/// <summary>Where a feed-forward's projections live.</summary>
public sealed record FeedForwardNames(string In, string Out)
{
    public static FeedForwardNames Sgm { get; } = new("net.0.proj", "net.2");
    public static FeedForwardNames Clip { get; } = new("fc1", "fc2");
}

/// <summary>Linear → activation → Linear, with an inner width from the configuration or the weights.</summary>
public sealed class FeedForward(WeightSource vs, FeedForwardNames names, FeedForwardKind kind, int width, int inner)
{
    private readonly Linear _in = new(vs.Pp(names.In), width, kind == FeedForwardKind.Geglu ? 2 * inner : inner);
    private readonly Linear _out = new(vs.Pp(names.Out), inner, width);

    /// <summary>residual + ff(x), the add done by the second projection's epilogue.</summary>
    public Tensor ForwardAdd(IBackend b, Tensor x, Tensor residual)
    {
        using var scope = TensorScope.Open();
        var h = _in.Forward(b, x);
        h = kind switch { FeedForwardKind.Geglu => b.Geglu(h), FeedForwardKind.QuickGelu => b.QuickGelu(h), _ => b.Gelu(h) };
        return scope.MoveToOuter(_out.ForwardAdd(b, h, residual));
    }
}
