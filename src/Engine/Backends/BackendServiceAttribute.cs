namespace LayerDiffusion.Native.Backends;

/// <summary>
/// Marks an <see cref="IBackend"/> member that computes nothing itself (a forward-graph recorder, a promise about
/// inputs): it has no CPU reference to selftest against and no cost rule, and the op inventories skip it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BackendServiceAttribute : Attribute;
