namespace LayerDiffusion.Native.Sampling;

/// <summary>
/// The model as the samplers see it: the guided ε prediction for the whole latent batch.
/// </summary>
/// <param name="xIn">The UNet input for every image of the batch, [B, C, H, W] flattened (already scaled by c_in
/// for the k-diffusion samplers; the raw x_t for UniPC).</param>
/// <param name="timestep">The UNet timestep (quantized or fractional, per the sampler).</param>
/// <param name="sigma">The sigma this call is at (for model switches such as Stop At).</param>
/// <returns>ε of the same size, classifier-free guidance already applied.</returns>
public delegate float[] EpsModel(float[] xIn, float timestep, float sigma);

