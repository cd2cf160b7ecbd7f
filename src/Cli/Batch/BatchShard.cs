using System.Globalization;

namespace LayerDiffusion.Native.Cli;

/// <summary>
/// Which jobs of a batch this process runs: job k (0-based, counting every non-blank line) belongs to shard
/// k mod Count. The shard comes from --shard INDEX/COUNT, else from the scheduler that started the process: a Slurm
/// job array (SLURM_ARRAY_TASK_ID, with SLURM_ARRAY_TASK_COUNT or _MIN/_MAX) or a Kubernetes Indexed Job
/// (JOB_COMPLETION_INDEX, with --shard-count set to the Job's completions, which Kubernetes does not export).
/// </summary>
public readonly record struct BatchShard(int Index, int Count)
{
    public static readonly BatchShard Whole = new(0, 1);

    public bool Owns(int job) => job % Count == Index;

    /// <summary>"" for the whole file, else ".shard-I-of-N" (names per-shard files such as the results log).</summary>
    public string Suffix => Count == 1 ? "" : $".shard-{Index}-of-{Count}";

    public override string ToString() => $"{Index}/{Count}";

    /// <param name="shard">--shard INDEX/COUNT, or null.</param>
    /// <param name="shardCount">--shard-count N, or null.</param>
    /// <param name="env">The environment (injected by tests).</param>
    public static BatchShard Resolve(string? shard, int? shardCount, Func<string, string?> env)
    {
        if (shard is not null)
        {
            if (shardCount is not null) throw new InvalidOptionException("--shard-count", "cannot be combined with --shard INDEX/COUNT (which gives the count)");
            var parts = shard.Split('/');
            if (parts.Length != 2 || !TryInt(parts[0], out int i) || !TryInt(parts[1], out int n) || n < 1 || i < 0 || i >= n)
                throw new InvalidOptionException("--shard", $"'{shard}' is not INDEX/COUNT with 0 <= INDEX < COUNT (e.g. 0/4)");
            return new BatchShard(i, n);
        }
        if (env("SLURM_ARRAY_TASK_ID") is { } slurmId)
        {
            int id = EnvInt("SLURM_ARRAY_TASK_ID", slurmId);
            int min = env("SLURM_ARRAY_TASK_MIN") is { } m ? EnvInt("SLURM_ARRAY_TASK_MIN", m) : 0;
            int? count = shardCount
                ?? (env("SLURM_ARRAY_TASK_COUNT") is { } c ? EnvInt("SLURM_ARRAY_TASK_COUNT", c)
                : env("SLURM_ARRAY_TASK_MAX") is { } max ? EnvInt("SLURM_ARRAY_TASK_MAX", max) - min + 1 : null);
            if (count is null)
                throw new InvalidOptionException("--shard-count", "SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is; pass --shard-count N");
            return Checked(id - min, count.Value, "SLURM_ARRAY_TASK_ID");
        }
        if (env("JOB_COMPLETION_INDEX") is { } k8sIndex)
        {
            int index = EnvInt("JOB_COMPLETION_INDEX", k8sIndex);
            if (shardCount is null)
                throw new InvalidOptionException("--shard-count", "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): pass --shard-count N, the Job's completions");
            return Checked(index, shardCount.Value, "JOB_COMPLETION_INDEX");
        }
        if (shardCount is not null)
            throw new InvalidOptionException("--shard-count", "needs an index: run under a Slurm job array or a Kubernetes Indexed Job, or use --shard INDEX/COUNT");
        return Whole;
    }

    private static BatchShard Checked(int index, int count, string source) =>
        count >= 1 && index >= 0 && index < count ? new BatchShard(index, count)
            : throw new InvalidOptionException(source, $"shard index {index} is outside 0..{count - 1} (an array or Job with a step or offset? pass --shard INDEX/COUNT)");

    private static int EnvInt(string name, string value) =>
        TryInt(value, out int v) ? v : throw new InvalidOptionException(name, $"'{value}' is not an integer");

    private static bool TryInt(string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
}
