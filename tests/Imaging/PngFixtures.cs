namespace LayerDiffusion.Native.Tests.Imaging;

/// <summary>
/// PNG files written by an independent encoder (Python's zlib and struct, with its own filter implementation), so
/// the reader is checked against files it did not produce. Pixel values follow the formulas in PngReaderTests.
/// </summary>
internal static class PngFixtures
{
    public const string Palette2BitTrns = "iVBORw0KGgoAAAANSUhEUgAAAAUAAAADAgMAAAAmWC1rAAAADFBMVEUKFB7IZAAA/4D///+Iq4FRAAAAA3RSTlMAgP/s97MYAAAAEUlEQVR42mOUfsoy7Tzz4c0AD7ED5NVH9qEAAAAASUVORK5CYII=";
    public const string Adam7Rgb = "iVBORw0KGgoAAAANSUhEUgAAAAkAAAAHCAIAAAEi/sChAAAAkklEQVR42mNgYGDX0MhnmCJizaAjw37AwDrEJZ/Bi0vxnlwoY5ma4hQREwaxPvaEGYqrFll/WRNqty2f0WkVuxeXFBwxqLKK5PPr7ZT0YFZOYrSeLAKXYRLrY4AjZvv5XAY+vEC0wYeXgdud3cBHJDRQsSpMb3609ZEEj5epoXxZScb5+YyKV9lVWXmxIhQT0RAAnS8shPdWjX4AAAAASUVORK5CYII=";
    public const string GreyAlpha16 = "iVBORw0KGgoAAAANSUhEUgAAAAMAAAACEAQAAABn7XLSAAAAHElEQVR42mNi+P//v7981/m59qLzmVheMDDAMACSiAkd/OPj1QAAAABJRU5ErkJggg==";
    public const string Grey1BitKey = "iVBORw0KGgoAAAANSUhEUgAAAAoAAAACAQAAAABJGnB9AAAAAnRSTlMAAQGU/a4AAAAOSURBVHjaYwh1YFjVAAAEgwHA/ftP2QAAAABJRU5ErkJggg==";
    public const string RgbaWithText = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAG3pUWHRDb21tZW50AAB4nEtOTHupkJNYkpkHABfcBEwDmrmoAAAAK2lUWHRwYXJhbWV0ZXJzAAEAZW4AAHice949QSEtv0JHobgktaDYSsHIAABJjwanDpHG1AAAABdJREFUeNpjYGAwakhhMGpkZEgBMRgYAR5GA0bQ044zAAAAAElFTkSuQmCC";
}
