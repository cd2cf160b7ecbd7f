using LayerDiffusion.Native.Tensors;

namespace LayerDiffusion.Native.Backends;

/// <summary>
/// Linear products of inputs that stay the same over many forwards, computed once and reused: the text conditioning
/// of a generation is the same at every sampling step, so each cross-attention layer's K = context·Wk and
/// V = context·Wv are too (2 GEMMs per layer and step saved from the second step on). A caller marks such inputs with
/// <see cref="Hold"/> for as long as their values cannot change (a generation's denoiser holds its conditioning);
/// products are keyed by the identity of the held input, the weight and the bias, so another prompt (a new context
/// tensor, as per-step prompt editing makes), another UNet (the patched and the original one under Stop At have
/// distinct weights) or a product not of a held input is computed as usual. Disposing the hold frees its products.
/// The backend's Linear calls <see cref="TryGet"/> first and <see cref="Keep"/> after computing.
/// LD_KV_CACHE=0 turns it off (for comparisons).
/// </summary>
public sealed class ConstantProducts(Func<Tensor, Tensor> share)
{
    private static readonly bool s_enabled = Environment.GetEnvironmentVariable("LD_KV_CACHE") is not "0";
    private readonly List<ProductHold> _held = [];

    /// <summary>Keeps the Linear products of <paramref name="constants"/> until the returned hold is disposed.</summary>
    public ProductHold Hold(IReadOnlyList<Tensor> constants)
    {
        var held = new ProductHold(this, new HashSet<object>(constants, ReferenceEqualityComparer.Instance));
        if (s_enabled) lock (_held) _held.Add(held);
        return held;
    }

    /// <summary>The kept product of x (a held input) with w and bias, as a new tensor of the current scope sharing its storage.</summary>
    public Tensor? TryGet(Tensor x, Tensor w, Tensor? bias)
    {
        lock (_held)
        {
            if (_held.Count == 0) return null;
            foreach (var h in _held)
                if (h.Products.TryGetValue((x, w, bias), out var y))
                {
                    h.Hits++;
                    return share(y);
                }
        }
        return null;
    }

    /// <summary>Keeps y = Linear(x, w, bias) when x is held (the cache holds its own handle on y's storage).</summary>
    public void Keep(Tensor x, Tensor w, Tensor? bias, Tensor y)
    {
        lock (_held)
        {
            if (_held.Count == 0) return;
            foreach (var h in _held)
                if (h.Constants.Contains(x))
                {
                    h.Products[(x, w, bias)] = TensorScope.Detach(share(y));
                    h.Kept++;
                    return;
                }
        }
    }

    /// <summary>One caller's held inputs and their kept products (<see cref="Hits"/> and <see cref="Kept"/> count them).</summary>
    public sealed class ProductHold : IDisposable
    {
        private readonly ConstantProducts owner;
        internal readonly HashSet<object> Constants;
        internal readonly Dictionary<(Tensor X, Tensor W, Tensor? B), Tensor> Products = new(new IdentityKey());

        internal ProductHold(ConstantProducts owner, HashSet<object> constants) => (this.owner, Constants) = (owner, constants);

        /// <summary>Products served from this hold, and products computed and kept in it.</summary>
        public long Hits { get; internal set; }
        public long Kept { get; internal set; }

        public void Dispose()
        {
            lock (owner._held)
            {
                owner._held.Remove(this);
                foreach (var p in Products.Values) p.Dispose();
                Products.Clear();
            }
        }
    }

    private sealed class IdentityKey : IEqualityComparer<(Tensor X, Tensor W, Tensor? B)>
    {
        public bool Equals((Tensor X, Tensor W, Tensor? B) a, (Tensor X, Tensor W, Tensor? B) b) =>
            ReferenceEquals(a.X, b.X) && ReferenceEquals(a.W, b.W) && ReferenceEquals(a.B, b.B);

        public int GetHashCode((Tensor X, Tensor W, Tensor? B) k) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(k.X),
                System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(k.W), k.B is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(k.B));
    }
}
