using LayerDiffusion.Native.Backends;
using LayerDiffusion.Native.Models;
using LayerDiffusion.Native.Models.Clip;
using LayerDiffusion.Native.Sampling;
using LayerDiffusion.Native.Text;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// A run's prompt and negative prompt as A1111 schedules them (<see cref="PromptSchedule"/>): one embedding per
/// schedule entry (equal texts encoded once), and per denoiser call the pair of entries in force, each prompt
/// looked up on its own schedule as A1111's reconstruct_cond_batch does for cond and uncond.
/// </summary>
public sealed class ScheduledPrompts
{
    private ScheduledPrompts(IReadOnlyList<ScheduledPrompt> positiveSchedule, IReadOnlyList<ScheduledPrompt> negativeSchedule,
        PromptEmbedding[] positive, PromptEmbedding[] negative)
    {
        PositiveSchedule = positiveSchedule;
        NegativeSchedule = negativeSchedule;
        Positive = positive;
        Negative = negative;
    }

    public IReadOnlyList<ScheduledPrompt> PositiveSchedule { get; }
    public IReadOnlyList<ScheduledPrompt> NegativeSchedule { get; }
    /// <summary>One embedding per entry of <see cref="PositiveSchedule"/>.</summary>
    public IReadOnlyList<PromptEmbedding> Positive { get; }
    public IReadOnlyList<PromptEmbedding> Negative { get; }

    public static ScheduledPrompts Encode(GenerationSettings s, TextConditioner text)
    {
        var pos = PromptSchedule.Parse(s.Prompt, s.Steps);
        var neg = PromptSchedule.Parse(s.Negative, s.Steps);
        var cache = new Dictionary<(bool, string), PromptEmbedding>();
        PromptEmbedding Get(bool negative, string t)
        {
            if (!cache.TryGetValue((negative, t), out var e)) cache[(negative, t)] = e = negative ? text.EncodeNegative(t) : text.Encode(t);
            return e;
        }
        return new ScheduledPrompts(pos, neg, pos.Select(e => Get(false, e.Text)).ToArray(), neg.Select(e => Get(true, e.Text)).ToArray());
    }

    /// <summary>
    /// One CFG conditioning per (positive, negative) entry pair that some call uses, and the call → conditioning map.
    /// Calls past the schedule's end take the first entries, as reconstruct_cond_batch does.
    /// </summary>
    public (IReadOnlyList<CfgConditioning> Conditionings, Func<int, int> Select) Conditionings(IBackend backend, ModelFamily family, GenerationSettings s)
    {
        var pairs = new List<(int Pos, int Neg)>();
        int Pair(int call)
        {
            var pair = (PromptSchedule.IndexAt(PositiveSchedule, call), PromptSchedule.IndexAt(NegativeSchedule, call));
            int i = pairs.IndexOf(pair);
            if (i < 0) { pairs.Add(pair); i = pairs.Count - 1; }
            return i;
        }
        // Every call index up to the last entry's end, then one past it (where the first entries come back).
        int last = Math.Max(PositiveSchedule[^1].EndAtStep, NegativeSchedule[^1].EndAtStep);
        var byCall = Enumerable.Range(0, last + 2).Select(Pair).ToArray();
        var conditionings = pairs.Select(p => CfgConditioning.FromPrompts(backend, Negative[p.Neg], Positive[p.Pos],
            family.VectorConditioning?.Invoke(Negative[p.Neg].Pooled, s.Width, s.Height),
            family.VectorConditioning?.Invoke(Positive[p.Pos].Pooled, s.Width, s.Height), s.Batch)).ToList();
        return (conditionings, call => byCall[Math.Min(call, byCall.Length - 1)]);
    }
}
