namespace LayerDiffusion.Native.Models.Layers;

/// <summary>One attention module's call in a forward pass, as an <see cref="IAttentionHook"/> sees it.</summary>
/// <param name="Index">The module's place among the network's attention modules in forward order (input blocks, middle,
/// output blocks; attn1 before attn2): the numbering of the extension's attention-sharing units.</param>
/// <param name="Module">The attention: its <see cref="Attention.Name"/>, heads and Q/K/V/Out weights and biases.</param>
/// <param name="Hidden">The block's normalised hidden states of the whole batch [B, N, C]: every frame, and both CFG
/// halves when they run in one call.</param>
/// <param name="Context">Cross-attention's keys/values input [B, M, ctx]; null for self-attention.</param>
public sealed record AttentionCall(int Index, Attention Module, Tensor Hidden, Tensor? Context)
{
    public string Name => Module.Name;
    public bool IsSelfAttention => Context is null;

    /// <summary>What the module computes without a hook (a hook that leaves this call alone returns it).</summary>
    public Tensor Default(IBackend b) => Module.Forward(b, Hidden, Context);
}

/// <summary>
/// Replaces the attention modules of a network's transformer blocks (SD1.5's attention sharing: per-frame LoRA on the
/// projections, the frames' tokens attended together). Installed with <c>SdxlUnet.AttentionHook</c>; the default path
/// (no hook) is untouched. The block adds the residual to what the hook returns, so a hook computes only the
/// attention's output [B, N, C]; tensors it creates and does not return are freed by the block's scope.
/// </summary>
public interface IAttentionHook
{
    /// <summary>Called once per attention module per forward pass, in <see cref="AttentionCall.Index"/> order.</summary>
    Tensor Attend(IBackend b, AttentionCall call);
}
