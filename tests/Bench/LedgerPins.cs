namespace LayerDiffusion.Native.Tests.Bench;

/// <summary>
/// The cost ledger's pinned counts: one UNet step (batch 2, i.e. one CFG step, 128x128) of the tiny UNet, the
/// demo model's shapes that `ld profile --tiny` (and the CPU's default) writes as synthetic weights. They are
/// deterministic (shapes and code, not timing or data), so CI tracks them: a change here is a change in how much
/// work a step does.
/// <para>
/// They change, legitimately, when kernels are fused or split (launches), when the model graph changes (ops, FLOPs,
/// bytes) or when a cost rule in src/Engine/Backends/Ledger/OpCosts.cs changes. To update them, run
/// <code>
///   dotnet src/Cli/bin/Release/net10.0/ld.dll profile --device cpu --components unet_step --warmup 0 --runs 1 --json cpu.json
///   LD_CUDA_PATH=EMU LD_CUBLASLT_PATH=EMU LD_CUDNN_PATH=EMU dotnet src/Cli/bin/Release/net10.0/ld.dll profile --device cuda \
///     --precision fp16 --tiny --components unet_step --warmup 0 --runs 1 --json emu.json
/// </code>
/// (EMU = libldemu.so from scripts/build-cuda-emulator.sh), read <c>counts</c> of the <c>unet_step</c> record whose
/// <c>params.op_class</c> is null, and say in the commit message why the numbers moved.
/// </para>
/// </summary>
internal static class LedgerPins
{
    public const int Width = 128, Height = 128, Batch = 2;

    /// <summary>Backend op calls per step (the same on every backend).</summary>
    public const long Ops = 387;

    /// <summary>FLOPs per step, on the CPU (the same on every backend: OpCosts' analytic rules).</summary>
    public const long Flops = 869_620_672;

    /// <summary>Kernel launches + cuBLASLt/cuDNN calls per step on the emulated GPU, fp16, convolutions on (fake) cuDNN.</summary>
    public const long EmulatedFp16Launches = 420;

    /// <summary>Bytes moved per step on the emulated GPU at fp16 (half the CPU's fp32 bytes, but for host-side fp32 uploads).</summary>
    public const long EmulatedFp16Bytes = 28_957_704;
}
