using System.Diagnostics;
using Rift.Agent.Frames;
using Rift.Learning;
using Rift.Sim.Rendering;

namespace Rift.Agent.Tests.Frames;

public sealed class PngFrameDecoderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rift-png-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static byte[] Ffmpeg(params string[] args)
    {
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-hide_banner", "-loglevel", "error", "-nostdin", "-y" }.Concat(args)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        using var ms = new MemoryStream();
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.BaseStream.CopyTo(ms);
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err.Result);
        return ms.ToArray();
    }

    [Fact]
    public void Decode_RiftPngWriter_RoundTrips()
    {
        var rng = new Random(1);
        var rgb = new byte[37 * 23 * 3];
        rng.NextBytes(rgb);
        var frame = PngFrameDecoder.Decode(PngWriter.Encode(new Frame(37, 23, rgb)));
        Assert.Equal((37, 23), (frame.Width, frame.Height));
        Assert.Equal(rgb, frame.Rgb);
    }

    [Theory]
    [InlineData("rgb24")]
    [InlineData("rgba")]
    [InlineData("gray")]
    public void Decode_FfmpegPngAllFilters_EqualsFfmpegRawDecode(string pixFmt)
    {
        // -pred mixed makes ffmpeg choose among all five row filters per row.
        var png = Path.Combine(_dir, $"{pixFmt}.png");
        Ffmpeg("-f", "lavfi", "-i", "testsrc=size=61x47:rate=1", "-frames:v", "1", "-pix_fmt", pixFmt, "-pred", "mixed", png);
        var expected = Ffmpeg("-i", png, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1");
        var frame = PngFrameDecoder.Decode(File.ReadAllBytes(png));
        Assert.Equal((61, 47), (frame.Width, frame.Height));
        Assert.Equal(expected, frame.Rgb);
    }

    [Fact]
    public void Decode_CorruptOrUnsupported_InvalidDataNamingProblem()
    {
        var good = PngWriter.Encode(new Frame(4, 4, new byte[48]));
        Assert.Contains("signature", Assert.Throws<InvalidDataException>(() => PngFrameDecoder.Decode([1, 2, 3])).Message);
        Assert.Throws<InvalidDataException>(() => PngFrameDecoder.Decode(good.AsSpan(0, good.Length - 20)));
        var huge = (byte[])good.Clone();
        huge[16] = 0x7F; // width ≈ 2^31
        Assert.Contains("out of range", Assert.Throws<InvalidDataException>(() => PngFrameDecoder.Decode(huge)).Message);
    }
}
