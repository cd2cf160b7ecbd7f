namespace LayerDiffusion.Native.Verify;

/// <summary>Reproduces one golden case from its declared inputs, settings and weight files.</summary>
public interface ICaseRunner
{
    string CaseName { get; }
    /// <summary>Computes and emits every output it can; outputs left unemitted are reported as SKIP.</summary>
    void Run(CaseContext ctx);
}
