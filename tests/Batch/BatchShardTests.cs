using LayerDiffusion.Native.Cli;
using Xunit;

namespace LayerDiffusion.Native.Tests.Batch;

/// <summary>Where a batch process's shard comes from: --shard, a Slurm job array, or a Kubernetes Indexed Job.</summary>
public sealed class BatchShardTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void ExplicitShardWinsAndIsChecked()
    {
        Assert.Equal(new BatchShard(1, 4), BatchShard.Resolve("1/4", null, Env(("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_COUNT", "8"))));
        foreach (var bad in new[] { "4/4", "-1/4", "1", "a/b", "0/0" })
            Assert.StartsWith("--shard:", Assert.Throws<InvalidOptionException>(() => BatchShard.Resolve(bad, null, Env())).Message);
        Assert.Equal(BatchShard.Whole, BatchShard.Resolve(null, null, Env()));
    }

    [Fact]
    public void SlurmArraysGiveIndexAndCount()
    {
        Assert.Equal(new BatchShard(3, 8), BatchShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_COUNT", "8"))));
        // --array=1-4: ids 1..4 are shards 0..3 of 4.
        Assert.Equal(new BatchShard(0, 4), BatchShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_MAX", "4"))));
        Assert.Throws<InvalidOptionException>(() => BatchShard.Resolve(null, null, Env(("SLURM_ARRAY_TASK_ID", "9"), ("SLURM_ARRAY_TASK_COUNT", "8"))));
    }

    [Fact]
    public void KubernetesIndexedJobsNeedTheCount()
    {
        Assert.Equal(new BatchShard(2, 5), BatchShard.Resolve(null, 5, Env(("JOB_COMPLETION_INDEX", "2"))));
        Assert.Contains("--shard-count", Assert.Throws<InvalidOptionException>(() => BatchShard.Resolve(null, null, Env(("JOB_COMPLETION_INDEX", "2")))).Message);
        Assert.Throws<InvalidOptionException>(() => BatchShard.Resolve(null, 3, Env()));
    }

    [Fact]
    public void EveryJobBelongsToExactlyOneShard()
    {
        var shards = Enumerable.Range(0, 3).Select(i => new BatchShard(i, 3)).ToArray();
        for (int job = 0; job < 20; job++) Assert.Single(shards, s => s.Owns(job));
    }
}
