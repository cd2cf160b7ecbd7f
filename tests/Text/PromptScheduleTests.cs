using LayerDiffusion.Native.Tests.CliFlows;
using LayerDiffusion.Native.Text;
using Xunit;

namespace LayerDiffusion.Native.Tests.Text;

/// <summary>
/// Prompt editing and alternation against the examples in A1111's own doctest of
/// get_learned_conditioning_prompt_schedules (10 steps), hand-worked cases of its step rules, and a run whose
/// conditioning switches.
/// </summary>
public sealed class PromptScheduleTests
{
    private static string Format(IReadOnlyList<ScheduledPrompt> s) => string.Join(" ", s.Select(e => $"[{e.EndAtStep}, '{e.Text}']"));

    [Theory]
    [InlineData("test", "[10, 'test']")]
    [InlineData("a [b:3]", "[3, 'a '] [10, 'a b']")]
    [InlineData("a [b: 3]", "[3, 'a '] [10, 'a b']")]
    [InlineData("a [[[b]]:2]", "[2, 'a '] [10, 'a [[b]]']")]
    [InlineData("[(a:2):3]", "[3, ''] [10, '(a:2)']")]
    [InlineData("a [b : c : 1] d", "[1, 'a b  d'] [10, 'a  c  d']")]
    [InlineData("a[b:[c:d:2]:1]e", "[1, 'abe'] [2, 'ace'] [10, 'ade']")]
    [InlineData("a [unbalanced", "[10, 'a [unbalanced']")]
    [InlineData("a [b:.5] c", "[5, 'a  c'] [10, 'a b c']")]
    [InlineData("((a][:b:c [d:3]", "[3, '((a][:b:c '] [10, '((a][:b:c d']")]
    [InlineData("[a|(b:1.1)]", "[1, 'a'] [2, '(b:1.1)'] [3, 'a'] [4, '(b:1.1)'] [5, 'a'] [6, '(b:1.1)'] [7, 'a'] [8, '(b:1.1)'] [9, 'a'] [10, '(b:1.1)']")]
    [InlineData("[fe|]male", "[1, 'female'] [2, 'male'] [3, 'female'] [4, 'male'] [5, 'female'] [6, 'male'] [7, 'female'] [8, 'male'] [9, 'female'] [10, 'male']")]
    [InlineData("[fe|||]male", "[1, 'female'] [2, 'male'] [3, 'male'] [4, 'male'] [5, 'female'] [6, 'male'] [7, 'male'] [8, 'male'] [9, 'female'] [10, 'male']")]
    public void A1111DoctestExamples(string prompt, string expected) => Assert.Equal(expected, Format(PromptSchedule.Parse(prompt, 10)));

    [Theory]
    // A whole number is a step, a number with a point a fraction of the steps (truncated); past the end it caps.
    [InlineData("[cat:dog:4]", 20, "[4, 'cat'] [20, 'dog']")]
    [InlineData("[cat:dog:4.0]", 20, "[20, 'cat']")]
    [InlineData("[cat:dog:0.33]", 20, "[6, 'cat'] [20, 'dog']")]
    [InlineData("[cat:dog:99]", 20, "[20, 'cat']")]
    // 0 (or less) never shows the first text; [a::n] removes it after step n.
    [InlineData("[cat:dog:0]", 20, "[20, 'dog']")]
    [InlineData("x [cat::5] y", 20, "[5, 'x cat y'] [20, 'x  y']")]
    // Escaped brackets are text; a '|' outside brackets makes the prompt plain text (A1111's parse error).
    [InlineData(@"\[cat:dog:5\]", 20, @"[20, '\[cat:dog:5\]']")]
    [InlineData("a | [cat:dog:5]", 20, "[20, 'a | [cat:dog:5]']")]
    // Emphasis and weights stay as written around the edited text.
    [InlineData("((red:1.2) [car:bike:2])", 4, "[2, '((red:1.2) car)'] [4, '((red:1.2) bike)']")]
    public void StepRules(string prompt, int steps, string expected) => Assert.Equal(expected, Format(PromptSchedule.Parse(prompt, steps)));

    [Fact]
    public void TheCallCounterPicksAsReconstructCondBatchDoes()
    {
        var schedule = PromptSchedule.Parse("a [b:3]", 10);
        // Counter 0..3 is the first entry, 4..10 the second, past the end the first again.
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0], Enumerable.Range(0, 12).Select(c => PromptSchedule.IndexAt(schedule, c)));
    }

    [Fact]
    public void ARunSwitchesConditioningWhereTheScheduleSays()
    {
        string dir = TestPaths.TempDir();
        // The final latents (the tiny model's 64x64 pictures can round to the same 8-bit pixels).
        float[] Latent(string name, string prompt)
        {
            string output = Path.Combine(dir, name + ".png"), latent = Path.Combine(dir, name + ".safetensors");
            var (code, _, stderr) = CliRunner.Run(["generate", .. CliFiles.ModelArgs("patch_attn_lora.safetensors"), "--prompt", prompt,
                "--out", output, "--save-latent", latent, "--width", "64", "--height", "64", "--steps", "3", "--sampler", "euler", "--quiet"]);
            Assert.True(code == 0, stderr);
            using var f = IO.SafeTensorsFile.Open(latent);
            return f.ReadFloat32("latent");
        }
        var cat = Latent("cat", "a cat");
        // 3 steps: [x:y:3] never switches (counter 0..2 ≤ 3): exactly the plain prompt.
        Assert.Equal(cat, Latent("never", "a [cat:dog:3]"));
        // [x:y:1]: calls 0 and 1 see "a cat", call 2 "a dog": neither the cat nor the dog run.
        var switched = Latent("switched", "a [cat:dog:1]");
        Assert.NotEqual(cat, switched);
        Assert.NotEqual(Latent("dog", "a dog"), switched);
        Directory.Delete(dir, recursive: true);
    }
}
