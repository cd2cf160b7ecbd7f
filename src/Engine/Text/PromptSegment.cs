namespace LayerDiffusion.Native.Text;

/// <summary>A run of prompt text with one attention weight; BREAK is the marker segment ("BREAK", -1) as in A1111.</summary>
public readonly record struct PromptSegment(string Text, double Weight)
{
    public static PromptSegment Break => new("BREAK", -1);

    public bool IsBreak => Text == "BREAK" && Weight == -1;

    public override string ToString() => $"[{Text} {Weight:0.#####}]";
}
