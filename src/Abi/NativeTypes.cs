using System.Runtime.InteropServices;

namespace LayerDiffusion.Native.Abi;

// The structs of include/ld.h, field for field (x86-64 / aarch64 System V layout: natural alignment).

[StructLayout(LayoutKind.Sequential)]
public unsafe struct EngineOptions
{
    public int Demo;
    public byte* Checkpoint, Tokenizer, LayerModel, TransparentDecoder, TransparentEncoder, ModelsDir, Method, Device, Precision;
    public delegate* unmanaged<void*, int, byte*, void> Log;
    public void* LogUser;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct Settings
{
    public byte* Prompt, Negative;
    public int Steps;
    public float Cfg;
    public byte* Sampler, Schedule;
    public long Seed;
    public byte* Rng;
    public int Width, Height;
    public byte* Method;
    public float Weight, StopAt;
    public double Denoise;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct ImageIn
{
    public byte* Rgba;
    public int Width, Height;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct ImageOut
{
    public byte* Rgba;
    public int Width, Height;
    public long Seed;
}
