using System.Text.Json;

namespace LayerDiffusion.Native.Verify.Cases;

/// <summary>One entry of an rng case's settings.draws: which tensor, seed, shape and (CUDA) draw number.</summary>
internal readonly record struct RngDraw(string Tensor, long Seed, int[] Shape, int Draw)
{
    public static IEnumerable<RngDraw> Read(JsonElement settings)
    {
        foreach (var d in settings.GetProperty("draws").EnumerateArray())
        {
            int draw = d.TryGetProperty("draw", out var k) ? k.GetInt32() : 1;
            yield return new RngDraw(
                d.GetProperty("tensor").GetString()!,
                d.GetProperty("seed").GetInt64(),
                d.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                draw);
        }
    }
}
