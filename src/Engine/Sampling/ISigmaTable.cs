namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// A model's noise levels as Forge's schedulers see them (the <c>inner_model</c> of modules/sd_schedulers.py): an
/// ascending sigma table, the nearest-step timestep of a sigma and the log-sigma interpolated sigma of a timestep.
/// The SDXL predictor (<see cref="DiscreteSchedule"/>) is one; LCM's 50-step table (<see cref="LcmSchedule"/>) another.
/// </summary>
public interface ISigmaTable
{
    /// <summary>Number of table entries.</summary>
    int Count { get; }
    /// <summary>Entry i of the ascending sigma table.</summary>
    float SigmaAt(int index);
    float SigmaMin { get; }
    float SigmaMax { get; }
    /// <summary>The model timestep whose sigma is nearest in log space (Forge's <c>sigma_to_t</c>).</summary>
    float SigmaToT(float sigma);
    /// <summary>σ(t), log-sigma interpolated between neighbouring entries (Forge's <c>t_to_sigma</c>).</summary>
    float TToSigma(float t);
}
