using LayerDiffusion.Native.IO;
using LayerDiffusion.Native.Tests.CliFlows;
using Xunit;

namespace LayerDiffusion.Native.Tests.Reliability;

/// <summary>
/// Model files reached through symbolic links (shared model folders, the Hugging Face cache's snapshots/ pointing into
/// blobs/) load as the files they point to: the length is the target's, not the link's.
/// </summary>
public sealed class SymlinkedModelTests
{
    private static readonly string Decoder = TestPaths.Golden("tiny_transparent_decoder.safetensors");

    private static void AssertSameTensors(string original, string viaLink)
    {
        using var a = SafeTensorsFile.Open(original);
        using var b = SafeTensorsFile.Open(viaLink);
        Assert.Equal(a.Names, b.Names);
        foreach (var n in a.Names) Assert.True(a.Bytes(n).SequenceEqual(b.Bytes(n)), n);
    }

    [Fact]
    public void AbsoluteRelativeAndChainedLinksLoad()
    {
        string dir = TestPaths.TempDir();
        try
        {
            string copy = Path.Combine(dir, "real.safetensors");
            File.Copy(Decoder, copy);
            string absolute = Path.Combine(dir, "abs.safetensors");
            File.CreateSymbolicLink(absolute, Decoder);
            Directory.CreateDirectory(Path.Combine(dir, "sub"));
            string relative = Path.Combine(dir, "sub", "rel.safetensors");
            File.CreateSymbolicLink(relative, "../real.safetensors");
            string chain = Path.Combine(dir, "chain.safetensors");
            File.CreateSymbolicLink(chain, "sub/rel.safetensors");
            foreach (var link in new[] { absolute, relative, chain })
            {
                Assert.True(new FileInfo(link).Length < 200, "the test needs the link's own length to be short");
                AssertSameTensors(Decoder, link);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void ADanglingLinkSaysWhereItPoints()
    {
        string dir = TestPaths.TempDir();
        try
        {
            string link = Path.Combine(dir, "gone.safetensors");
            File.CreateSymbolicLink(link, "nowhere.safetensors");
            var e = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(link).Dispose());
            Assert.Contains("is a link to nowhere.safetensors, which does not exist", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// The Hugging Face cache layout (models--org--name/snapshots/REV/FILE → ../../blobs/HASH) for every model file
    /// and the tokenizer, through --models-dir: a whole generation runs from links.
    /// </summary>
    [Fact]
    public void GenerationRunsFromAHuggingFaceCacheOfLinks()
    {
        string dir = TestPaths.TempDir();
        try
        {
            string repo = Path.Combine(dir, "models--org--layer");
            string blobs = Path.Combine(repo, "blobs"), snapshot = Path.Combine(repo, "snapshots", "0123abcd");
            Directory.CreateDirectory(blobs);
            Directory.CreateDirectory(snapshot);
            string Link(string source, string name)
            {
                string hash = System.Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(source))).ToLowerInvariant();
                if (!File.Exists(Path.Combine(blobs, hash))) File.Copy(source, Path.Combine(blobs, hash));
                string link = Path.Combine(snapshot, name);
                File.CreateSymbolicLink(link, Path.Combine("..", "..", "blobs", hash));
                return link;
            }
            string model = Link(TestPaths.Golden("tiny_sdxl.safetensors"), "tiny_sdxl.safetensors");
            Link(TestPaths.Golden("patch_attn_lora.safetensors"), "layer_xl_transparent_attn.safetensors");
            Link(Decoder, "vae_transparent_decoder.safetensors");
            string vocab = Link(CliFiles.Vocab, "bpe_simple_vocab_16e6.txt.gz");
            string output = Path.Combine(dir, "out.png");
            var (code, _, stderr) = CliRunner.Run(["generate", "--model", model, "--tokenizer", vocab, "--models-dir", snapshot,
                "--out", output, .. CliFiles.Small, "--device", "cpu"]);
            Assert.True(code == 0, stderr);
            Assert.True(File.Exists(output));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
