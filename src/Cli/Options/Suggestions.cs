namespace LayerDiffusion.Native.Cli;

/// <summary>"Did you mean": the nearest known name by edit distance (a swap of two neighbours counts as one edit).</summary>
public static class Suggestions
{
    /// <summary>The candidate nearest to <paramref name="typed"/>, if it is close enough to be the intended one.</summary>
    public static string? Nearest(string typed, IEnumerable<string> candidates)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Distance(typed, c);
            if (d < bestDistance) (best, bestDistance) = (c, d);
        }
        // Up to a third of the name may be wrong (at least one edit, at most three): `--stpes`, `genrate`, not `--x`.
        int allowed = Math.Clamp(typed.TrimStart('-').Length / 3, 1, 3);
        return bestDistance <= allowed ? best : null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
