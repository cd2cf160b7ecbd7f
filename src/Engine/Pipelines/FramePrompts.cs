using LayerDiffusion.Native.Models.Clip;

namespace LayerDiffusion.Native.Pipelines;

/// <summary>
/// SD1.5 attention sharing's per-frame prompts as the extension builds them: for each frame of the method whose
/// role has a non-empty additional prompt, "additional, prompt" encoded on its own (null otherwise); the
/// transparent-only method sets none.
/// </summary>
public static class FramePrompts
{
    public static string?[] Texts(GenerationSettings s) =>
        LayerMethods.HasFramePrompts(s.Method)
            ? LayerMethods.FrameRoles(s.Method).Select(r => s.AdditionalPrompt(r) is { Length: > 0 } extra ? extra + ", " + s.Prompt : null).ToArray()
            : [];

    public static PromptEmbedding?[] Encode(TextConditioner text, GenerationSettings s) =>
        Texts(s).Select(t => t is null ? null : text.Encode(t)).ToArray();
}
