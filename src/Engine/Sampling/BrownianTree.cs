using System.Numerics;

namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// torchsde 0.2.6's <c>BrownianTree</c> (a <c>BrownianInterval</c> with halfway_tree, tol 1e-6, pool_size 24, no
/// Lévy area) for one image: the Brownian increment W(ta, tb) of a vector, bit-compatible with the reference given
/// the same normal draws.
/// </summary>
/// <remarks>
/// Times are rounded to 6 decimals as Python's <c>round</c> does. The root [t0, t1] has
/// W = randn(s₀)·√(t1 − t0) with s₀ = SeedSequence(entropy, pool 24).generate_state(3)[0]. Splitting an interval
/// [s, e] (key k, depth d; the root is (0, 0), a child (2k + 0|1, d + 1)) at m = round((s + e)/2) draws
/// randn(SeedSequence(entropy, spawn_key = (k, d), pool 24).generate_state(4)[0]) = N and gives the left child
/// (m − s)/(e − s)·W + √((m − s)(e − m)/(e − s))·N, the right child W minus that (float32 tensors, float64
/// scalars). A query [ta, tb] is the in-order sum of the intervals that tile it. The tree is dyadic, so the values
/// do not depend on the order of queries; every normal comes from a fresh generator seeded with the interval's seed,
/// which the caller supplies (torch CPU or CUDA <c>randn</c>, per Forge's RNG source).
/// </remarks>
internal sealed class BrownianTree
{
    public const int PoolSize = 24;
    public const int Decimals = 6; // tol 1e-6
    private const int CacheCapacity = 128;

    private sealed class Node(double start, double end, Node? parent, bool isLeft, BigInteger key, int depth)
    {
        public readonly double Start = start, End = end;
        public readonly Node? Parent = parent;
        public readonly bool IsLeft = isLeft;
        public readonly BigInteger Key = key;
        public readonly int Depth = depth;
        public double Mid;
        public uint WSeed;
        public Node? Left, Right;
    }

    private readonly BigInteger _entropy;
    private readonly Func<long, int, float[]> _randn;
    private readonly bool _parallelDraws;
    private readonly Dictionary<Node, float[]> _drawn = [];
    private readonly Node _root;
    private readonly float[] _rootW;
    private readonly Dictionary<Node, LinkedListNode<(Node, float[])>> _cache = [];
    private readonly LinkedList<(Node, float[])> _lru = new();

    /// <param name="entropy">The image seed (torchsde's <c>entropy</c>), ≥ 0.</param>
    /// <param name="size">Elements of one draw (the latent of one image).</param>
    /// <param name="randn">The first <c>randn(size)</c> of a fresh generator seeded with the given seed.</param>
    /// <param name="parallelDraws">Whether <paramref name="randn"/> may run on several threads at once: a query's
    /// new intervals then draw their normals in parallel (they depend on the seeds only, not on each other).</param>
    public BrownianTree(long entropy, int size, double t0, double t1, Func<long, int, float[]> randn, bool parallelDraws = false)
    {
        if (entropy < 0) throw new ArgumentOutOfRangeException(nameof(entropy), $"Brownian tree seeds are non-negative (got {entropy})");
        if (!(t0 <= t1)) throw new ArgumentException($"need t0 ≤ t1 (got {t0}, {t1})");
        _entropy = entropy;
        _randn = randn;
        _parallelDraws = parallelDraws;
        Size = size;
        _root = new Node(Round(t0), Round(t1), null, false, BigInteger.Zero, 0);
        uint seed = new SeedSequence(_entropy, poolSize: PoolSize).GenerateState(3)[0];
        _rootW = Draw(seed);
        float scale = (float)Math.Sqrt(t1 - t0);
        for (int i = 0; i < size; i++) _rootW[i] *= scale;
    }

    public int Size { get; }
    public double T0 => _root.Start;
    public double T1 => _root.End;

    private static double Round(double t) => PythonRound.Round(t, Decimals);

    /// <summary>W(tb) − W(ta) for ta ≤ tb, clamped to [t0, t1] and rounded as torchsde does.</summary>
    public float[] Increment(double ta, double tb)
    {
        if (ta > tb) throw new ArgumentException($"query times must be ordered (got {ta}, {tb})");
        ta = Round(Math.Clamp(ta, _root.Start, _root.End));
        tb = Round(Math.Clamp(tb, _root.Start, _root.End));
        var w = new float[Size];
        if (ta == tb) return w;
        var pieces = new List<Node>();
        Tile(_root, ta, tb, pieces);
        DrawAhead(pieces);
        W(pieces[0]).CopyTo(w, 0);
        for (int p = 1; p < pieces.Count; p++)
        {
            var wi = W(pieces[p]);
            for (int i = 0; i < Size; i++) w[i] += wi[i];
        }
        return w;
    }

    /// <summary>The intervals of the dyadic tree that tile [ta, tb], left to right (torchsde's <c>_loc</c>).</summary>
    private void Tile(Node node, double ta, double tb, List<Node> pieces)
    {
        if (ta == node.Start && tb == node.End)
        {
            pieces.Add(node);
            return;
        }
        if (node.Left is null) Split(node);
        if (tb <= node.Mid) Tile(node.Left!, ta, tb, pieces);
        else if (ta >= node.Mid) Tile(node.Right!, ta, tb, pieces);
        else
        {
            Tile(node.Left!, ta, node.Mid, pieces);
            Tile(node.Right!, node.Mid, tb, pieces);
        }
    }

    /// <summary>
    /// The normals every uncached interval above the pieces will need (its parent's split draw), all at once and in
    /// parallel where allowed: the tree's shape and seeds are known before any value is.
    /// </summary>
    private void DrawAhead(List<Node> pieces)
    {
        var parents = new List<Node>();
        foreach (var piece in pieces)
            for (var n = piece; n.Parent is { } parent && !_cache.ContainsKey(n); n = parent)
                if (!_drawn.ContainsKey(parent) && !parents.Contains(parent)) parents.Add(parent);
        var draws = new float[parents.Count][];
        if (_parallelDraws && parents.Count > 1) Parallel.For(0, parents.Count, i => draws[i] = Draw(parents[i].WSeed));
        else for (int i = 0; i < parents.Count; i++) draws[i] = Draw(parents[i].WSeed);
        for (int i = 0; i < parents.Count; i++) _drawn[parents[i]] = draws[i];
    }

    private void Split(Node node)
    {
        double mid = Round(0.5 * (node.End + node.Start));
        if (!(mid > node.Start && mid < node.End))
            throw new InvalidOperationException($"Brownian interval [{node.Start}, {node.End}] cannot be split below the 1e-6 grid");
        node.Mid = mid;
        var spawnKey = new[] { node.Key, new BigInteger(node.Depth) };
        node.WSeed = new SeedSequence(_entropy, spawnKey, PoolSize).GenerateState(4)[0];
        node.Left = new Node(node.Start, mid, node, true, 2 * node.Key, node.Depth + 1);
        node.Right = new Node(mid, node.End, node, false, 2 * node.Key + 1, node.Depth + 1);
    }

    /// <summary>An interval's increment: the root's, or the Brownian bridge split of its parent's (cached, LRU).</summary>
    private float[] W(Node node)
    {
        if (node.Parent is null) return _rootW;
        if (_cache.TryGetValue(node, out var hit))
        {
            _lru.Remove(hit);
            _lru.AddFirst(hit);
            return hit.Value.Item2;
        }
        var parent = node.Parent;
        var w = W(parent);
        double hReciprocal = 1 / (parent.End - parent.Start);
        double leftDiff = parent.Mid - parent.Start, rightDiff = parent.End - parent.Mid;
        float meanScale = (float)leftDiff, meanRecip = (float)hReciprocal;
        float sd = (float)Math.Sqrt(leftDiff * rightDiff * hReciprocal);
        var noise = _drawn.Remove(parent, out var ahead) ? ahead : Draw(parent.WSeed);
        var left = new float[Size];
        var right = new float[Size];
        for (int i = 0; i < Size; i++)
        {
            left[i] = meanScale * w[i] * meanRecip + sd * noise[i];
            right[i] = w[i] - left[i];
        }
        // Both children come from one draw; keep both (the sibling is usually next).
        Remember(parent.Left!, left);
        Remember(parent.Right!, right);
        return node.IsLeft ? left : right;
    }

    private void Remember(Node node, float[] w)
    {
        if (_cache.TryGetValue(node, out var old)) _lru.Remove(old);
        else if (_cache.Count >= CacheCapacity)
        {
            var last = _lru.Last!;
            _lru.RemoveLast();
            _cache.Remove(last.Value.Item1);
        }
        _cache[node] = _lru.AddFirst((node, w));
    }

    private float[] Draw(uint seed)
    {
        var n = _randn(seed, Size);
        if (n.Length != Size) throw new InvalidOperationException($"normal source returned {n.Length} values for {Size}");
        return n;
    }
}
