using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LayerDiffusion.Native.Abi;
using Xunit;

namespace LayerDiffusion.Native.Tests.Api;

/// <summary>
/// The C ABI's exports (include/ld.h), called through unmanaged function pointers as a C caller would, in-process
/// (scripts/build-libld.sh checks the NativeAOT libld.so and examples/c/demo.c the same way in CI): status codes and
/// ld_last_error instead of exceptions, settings named as the API names them, progress, cancellation, buffers.
/// </summary>
public sealed unsafe class CAbiTests
{
    private static string LastError()
    {
        delegate* unmanaged<byte*> lastError = &Exports.ld_last_error;
        return Marshal.PtrToStringUTF8((nint)lastError())!;
    }

    private static byte* Utf8(string s) => (byte*)Marshal.StringToCoTaskMemUTF8(s);

    [UnmanagedCallersOnly]
    private static int CancelAfterSecondStep(void* user, int step, int total, float sigma)
    {
        ((int*)user)[0]++;
        return step >= 1 ? 1 : 0;
    }

    [Fact]
    public void VersionAndNullArgumentsGiveErrorsNotCrashes()
    {
        delegate* unmanaged<byte*> version = &Exports.ld_version;
        Assert.Equal(BuildInfo.InformationalVersion, Marshal.PtrToStringUTF8((nint)version()));
        delegate* unmanaged<Abi.EngineOptions*, nint> create = &Exports.ld_engine_create;
        Assert.Equal(0, create(null));
        Assert.StartsWith("options:", LastError());
        var options = new Abi.EngineOptions { Checkpoint = Utf8("/nonexistent/model.safetensors") };
        Assert.Equal(0, create(&options));
        Assert.Contains("/nonexistent/model.safetensors", LastError());
        delegate* unmanaged<nint, Settings*, delegate* unmanaged<void*, int, int, float, int>, void*, ImageOut*, int> generate = &Exports.ld_generate;
        var settings = new Settings();
        ImageOut image;
        Assert.Equal(Exports.Error, generate(0, &settings, null, null, &image));
        Assert.StartsWith("engine:", LastError());
    }

    [Fact]
    public void TheDemoGeneratesReportsBadSettingsAndCancels()
    {
        delegate* unmanaged<Abi.EngineOptions*, nint> create = &Exports.ld_engine_create;
        delegate* unmanaged<nint, void> free = &Exports.ld_engine_free;
        delegate* unmanaged<nint, Settings*, delegate* unmanaged<void*, int, int, float, int>, void*, ImageOut*, int> generate = &Exports.ld_generate;
        delegate* unmanaged<byte*, void> bufferFree = &Exports.ld_buffer_free;
        var options = new Abi.EngineOptions { Demo = 1, Device = Utf8("cpu") };
        nint engine = create(&options);
        Assert.True(engine != 0, LastError());
        try
        {
            var settings = new Settings { Prompt = Utf8("a glass bottle"), Steps = 3, Cfg = 5, Sampler = Utf8("euler"), Seed = 7, Width = 64, Height = 64, Weight = 1, StopAt = 1 };
            ImageOut image;
            Assert.True(generate(engine, &settings, null, null, &image) == Exports.Ok, LastError());
            Assert.Equal((64, 64, 7L), (image.Width, image.Height, image.Seed));
            int seeThrough = 0;
            for (int i = 0; i < 64 * 64; i++) seeThrough += image.Rgba[4 * i + 3] < 255 ? 1 : 0;
            Assert.True(seeThrough > 0, "the demo's image has a real alpha channel");
            bufferFree(image.Rgba);

            settings.Width = 70;
            Assert.Equal(Exports.Error, generate(engine, &settings, null, null, &image));
            Assert.Equal("Width: 70 is not a multiple of 8 (the VAE works on 8x8 pixel blocks)", LastError());
            Assert.True(image.Rgba == null);

            settings.Width = 64;
            int calls = 0;
            Assert.Equal(Exports.Cancelled, generate(engine, &settings, &CancelAfterSecondStep, &calls, &image));
            Assert.Equal(2, calls);
            // The engine stays usable after a cancelled call.
            Assert.True(generate(engine, &settings, null, null, &image) == Exports.Ok, LastError());
            bufferFree(image.Rgba);
        }
        finally
        {
            free(engine);
        }
    }
}
