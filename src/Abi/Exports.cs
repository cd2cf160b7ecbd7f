using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LayerDiffusion.Native.Imaging;
using LayerDiffusion.Native.Pipelines;
using LayerDiffusion.Native.Verify;

namespace LayerDiffusion.Native.Abi;

/// <summary>
/// The exported functions of include/ld.h. Every export catches everything: a C caller gets a status code and
/// <see cref="ld_last_error"/>, never an exception crossing the boundary.
/// </summary>
public static unsafe class Exports
{
    public const int Ok = 0, Error = 1, Cancelled = 2;

    private static readonly byte* Version = Utf8Static(BuildInfo.InformationalVersion);

    [UnmanagedCallersOnly(EntryPoint = "ld_version")]
    public static byte* ld_version() => Version;

    [UnmanagedCallersOnly(EntryPoint = "ld_last_error")]
    public static byte* ld_last_error() => LastError.Pointer;

    [UnmanagedCallersOnly(EntryPoint = "ld_engine_create")]
    public static nint ld_engine_create(EngineOptions* options) => Guard(() =>
    {
        if (options == null) throw new InvalidSettingException("options", "is NULL");
        return EngineHandle.Create(*options);
    }, 0);

    [UnmanagedCallersOnly(EntryPoint = "ld_engine_free")]
    public static void ld_engine_free(nint engine) => Guard(() => { EngineHandle.Free(engine); return 0; }, 0);

    [UnmanagedCallersOnly(EntryPoint = "ld_cancel")]
    public static void ld_cancel(nint engine) => Guard(() => { EngineHandle.From(engine).Cancel(); return 0; }, 0);

    [UnmanagedCallersOnly(EntryPoint = "ld_generate")]
    public static int ld_generate(nint engine, Settings* settings, delegate* unmanaged<void*, int, int, float, int> progress, void* user, ImageOut* output) =>
        Run(engine, settings, () => new GenerationInputs(), progress, user, output, LayerMethod.Attn);

    [UnmanagedCallersOnly(EntryPoint = "ld_layer")]
    public static int ld_layer(nint engine, Settings* settings, ImageIn* fg, ImageIn* bg, ImageIn* blend,
        delegate* unmanaged<void*, int, int, float, int> progress, void* user, ImageOut* output) =>
        Run(engine, settings, () => new GenerationInputs { Foreground = Image(fg), Background = Image(bg), Blend = Image(blend) }, progress, user, output, null);

    [UnmanagedCallersOnly(EntryPoint = "ld_img2img")]
    public static int ld_img2img(nint engine, Settings* settings, ImageIn* init,
        delegate* unmanaged<void*, int, int, float, int> progress, void* user, ImageOut* output) =>
        Run(engine, settings, () => new GenerationInputs { Init = Image(init) ?? throw new InvalidSettingException("init", "is NULL") }, progress, user, output, LayerMethod.Attn);

    [UnmanagedCallersOnly(EntryPoint = "ld_buffer_free")]
    public static void ld_buffer_free(byte* buffer) => NativeMemory.Free(buffer);

    private static int Run(nint engine, Settings* settings, Func<GenerationInputs> readInputs, delegate* unmanaged<void*, int, int, float, int> progress, void* user,
        ImageOut* output, LayerMethod? defaultMethod)
    {
        try
        {
            if (settings == null) throw new InvalidSettingException("settings", "is NULL");
            if (output == null) throw new InvalidSettingException("out", "is NULL");
            *output = default;
            var inputs = readInputs(); // the caller's images, copied (and checked) inside the try
            var s = ToSettings(*settings, defaultMethod);
            if (defaultMethod is null && LayerMethods.ConcatCount(s.Method) == 0)
                throw new InvalidSettingException("Method", "ld_layer runs the layer modes: fg2ble, bg2ble, fgble2bg or bgble2fg");
            if (inputs.Init is not null) s = s with { Denoise = settings->Denoise == 0 ? 0.75 : settings->Denoise };
            var handle = EngineHandle.From(engine);
            var result = handle.Run(s, inputs, progress == null ? null : step =>
            {
                if (progress(user, step.Index, step.Total, step.Sigma) != 0) handle.Cancel();
            });
            var image = result.Images[0];
            byte[] rgba = image.Rgba ?? ToRgba(image.Rgb);
            var buffer = (byte*)NativeMemory.Alloc((nuint)rgba.Length);
            rgba.CopyTo(new Span<byte>(buffer, rgba.Length));
            *output = new ImageOut { Rgba = buffer, Width = result.Width, Height = result.Height, Seed = image.Seed };
            LastError.Clear();
            return Ok;
        }
        catch (OperationCanceledException)
        {
            LastError.Set("cancelled");
            return Cancelled;
        }
        catch (Exception e)
        {
            LastError.Set(Describe(e));
            return Error;
        }
    }

    private static GenerationSettings ToSettings(in Settings s, LayerMethod? defaultMethod) => new()
    {
        Prompt = Str(s.Prompt) ?? "",
        Negative = Str(s.Negative) ?? "",
        Steps = s.Steps == 0 ? 20 : s.Steps,
        Cfg = s.Cfg,
        Sampler = Str(s.Sampler) ?? "euler_a",
        Schedule = Str(s.Schedule),
        Seed = s.Seed,
        Rng = Str(s.Rng) ?? "gpu",
        Width = s.Width == 0 ? 1024 : s.Width,
        Height = s.Height == 0 ? 1024 : s.Height,
        Method = Str(s.Method) is { } m ? LayerMethods.Parse("method", m)
            : defaultMethod ?? throw new InvalidSettingException("Method", "ld_layer needs the layer mode: fg2ble, bg2ble, fgble2bg or bgble2fg"),
        Weight = s.Weight,
        StopAt = s.StopAt,
    };

    /// <summary>An opaque layer mode's RGB as RGBA (alpha 255), so every call returns the same buffer layout.</summary>
    private static byte[] ToRgba(byte[] rgb)
    {
        var rgba = new byte[rgb.Length / 3 * 4];
        for (int i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgba[j] = rgb[i]; rgba[j + 1] = rgb[i + 1]; rgba[j + 2] = rgb[i + 2]; rgba[j + 3] = 255;
        }
        return rgba;
    }

    private static RgbaImage? Image(ImageIn* image)
    {
        if (image == null) return null;
        if (image->Rgba == null || image->Width <= 0 || image->Height <= 0 || (long)image->Width * image->Height > ImageLimits.DefaultMaxPixels)
            throw new InvalidSettingException("image", $"{image->Width}x{image->Height} with {(image->Rgba == null ? "no" : "a")} buffer is not an RGBA image of at most {ImageLimits.DefaultMaxPixels} pixels");
        return new RgbaImage(image->Width, image->Height, new ReadOnlySpan<byte>(image->Rgba, image->Width * image->Height * 4).ToArray());
    }

    internal static string? Str(byte* s) => s == null ? null : Marshal.PtrToStringUTF8((nint)s);

    internal static string Describe(Exception e) => e is LdException or IOException or UnauthorizedAccessException or ArgumentException
        ? e.Message : $"internal error: {e.GetType().Name}: {e.Message}";

    private static T Guard<T>(Func<T> body, T failed)
    {
        try
        {
            var r = body();
            LastError.Clear();
            return r;
        }
        catch (Exception e)
        {
            LastError.Set(Describe(e));
            return failed;
        }
    }

    private static byte* Utf8Static(string s) => (byte*)Marshal.StringToCoTaskMemUTF8(s);
}

/// <summary>This thread's last error as a NUL-terminated UTF-8 string the caller may read until its next call.</summary>
internal static unsafe class LastError
{
    [ThreadStatic] private static nint _message;

    public static byte* Pointer
    {
        get
        {
            if (_message == 0) Set("");
            return (byte*)_message;
        }
    }

    public static void Set(string message)
    {
        if (_message != 0) Marshal.FreeCoTaskMem(_message);
        _message = Marshal.StringToCoTaskMemUTF8(message);
    }

    public static void Clear() => Set("");
}
