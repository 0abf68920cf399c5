using System.IO.Compression;
using Rift.Sim.Rendering;

namespace Rift.Sim.Tests;

public class RenderingTests
{
    [Fact]
    public void Render_PushScene_ShowsRedObjectAndGreenTarget()
    {
        using var env = SimTasks.Create("push", new SimOptions { RenderFrames = true, FrameSize = 64 });
        var (obs, _) = env.Reset(3);
        var f = obs.Frame!;
        Assert.Equal(64, f.Width);
        int red = 0, green = 0;
        for (var i = 0; i < f.Rgb.Length; i += 3)
        {
            int r = f.Rgb[i], g = f.Rgb[i + 1], b = f.Rgb[i + 2];
            if (r > 150 && g < 80 && b < 80) red++;
            if (g > 150 && r < 100 && b < 120) green++;
        }
        Assert.True(red > 5, $"red pixels {red}");
        Assert.True(green > 5, $"green pixels {green}");
        // Top rows show the background (far side), bottom rows the table's front: rows are top-down.
        Assert.NotEqual(f.Rgb[..(64 * 3)], f.Rgb[^(64 * 3)..]);
    }

    [Fact]
    public void PngWriter_Encode_HasValidStructureAndPixels()
    {
        var rgb = new byte[4 * 3 * 3];
        for (var i = 0; i < rgb.Length; i++) rgb[i] = (byte)(i * 7);
        var png = PngWriter.Encode(new Rift.Learning.Frame(4, 3, rgb));
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        // IDAT payload inflates to filter byte + row per row.
        var idat = IndexOf(png, "IDAT"u8.ToArray());
        var len = (png[idat - 4] << 24) | (png[idat - 3] << 16) | (png[idat - 2] << 8) | png[idat - 1];
        using var z = new ZLibStream(new MemoryStream(png, idat + 4, len), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        z.CopyTo(ms);
        var raw = ms.ToArray();
        Assert.Equal(3 * (1 + 12), raw.Length);
        Assert.Equal(rgb[12..24], raw[14..26]);
        // CRC of IEND is the well-known AE 42 60 82.
        Assert.Equal(new byte[] { 0xAE, 0x42, 0x60, 0x82 }, png[^4..]);
    }

    private static int IndexOf(byte[] hay, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= hay.Length; i++)
            if (hay.AsSpan(i, needle.Length).SequenceEqual(needle)) return i;
        return -1;
    }
}
