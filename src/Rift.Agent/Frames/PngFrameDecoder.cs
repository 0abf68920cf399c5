using System.Buffers.Binary;
using System.IO.Compression;
using Rift.Learning;

namespace Rift.Agent.Frames;

/// <summary>
/// Decodes PNG frames sent over the bridge (<c>"format": "png"</c>) into rgb24: 8-bit greyscale, truecolour or
/// truecolour+alpha (alpha dropped), non-interlaced, all five row filters (PNG spec §9). Anything else — other bit
/// depths, palettes, interlacing, a truncated or corrupt stream, a size beyond the limit — is an
/// <see cref="InvalidDataException"/> naming the problem (the bridge answers it with a bad_frame error).
/// </summary>
public static class PngFrameDecoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static Frame Decode(ReadOnlySpan<byte> png, int maxSide = 8192)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(Signature)) throw new InvalidDataException("not a PNG (bad signature)");
        int width = 0, height = 0, channels = 0;
        var idat = new MemoryStream();
        var pos = 8;
        var sawHeader = false;
        while (true)
        {
            if (pos + 8 > png.Length) throw new InvalidDataException("PNG is truncated (no IEND chunk)");
            var length = BinaryPrimitives.ReadInt32BigEndian(png[pos..]);
            var type = png.Slice(pos + 4, 4);
            if (length < 0 || pos + 12L + length > png.Length) throw new InvalidDataException("PNG chunk runs past the end of the data");
            var data = png.Slice(pos + 8, length);
            pos += 12 + length; // length, type, data, CRC
            if (type.SequenceEqual("IHDR"u8))
            {
                if (length != 13) throw new InvalidDataException("PNG IHDR has the wrong length");
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                if (width < 1 || height < 1 || width > maxSide || height > maxSide)
                    throw new InvalidDataException($"PNG size {width}x{height} is out of range [1, {maxSide}]");
                if (data[8] != 8) throw new InvalidDataException($"PNG bit depth {data[8]} is not supported (8 only)");
                channels = data[9] switch
                {
                    0 => 1,
                    2 => 3,
                    4 => 2,
                    6 => 4,
                    _ => throw new InvalidDataException($"PNG colour type {data[9]} is not supported (grey, grey+alpha, RGB, RGBA)"),
                };
                if (data[12] != 0) throw new InvalidDataException("interlaced PNG is not supported");
                sawHeader = true;
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                idat.Write(data);
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                break;
            }
        }
        if (!sawHeader) throw new InvalidDataException("PNG has no IHDR chunk");

        var stride = width * channels;
        var raw = new byte[(long)(stride + 1) * height];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            var got = 0;
            try
            {
                while (got < raw.Length)
                {
                    var n = z.Read(raw, got, raw.Length - got);
                    if (n == 0) break;
                    got += n;
                }
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"PNG image data is corrupt: {e.Message}", e);
            }
            if (got < raw.Length) throw new InvalidDataException($"PNG image data has {got} bytes, expected {raw.Length}");
        }

        // Undo the row filters in place (PNG §9.2), bpp = channels for 8-bit samples.
        var bpp = channels;
        for (var y = 0; y < height; y++)
        {
            var row = raw.AsSpan(y * (stride + 1) + 1, stride);
            var prior = y == 0 ? Span<byte>.Empty : raw.AsSpan((y - 1) * (stride + 1) + 1, stride);
            var filter = raw[y * (stride + 1)];
            switch (filter)
            {
                case 0: break;
                case 1:
                    for (var i = bpp; i < stride; i++) row[i] += row[i - bpp];
                    break;
                case 2:
                    if (!prior.IsEmpty)
                        for (var i = 0; i < stride; i++) row[i] += prior[i];
                    break;
                case 3:
                    for (var i = 0; i < stride; i++)
                        row[i] += (byte)(((i >= bpp ? row[i - bpp] : 0) + (prior.IsEmpty ? 0 : prior[i])) >> 1);
                    break;
                case 4:
                    for (var i = 0; i < stride; i++)
                        row[i] += Paeth(i >= bpp ? row[i - bpp] : (byte)0, prior.IsEmpty ? (byte)0 : prior[i], i >= bpp && !prior.IsEmpty ? prior[i - bpp] : (byte)0);
                    break;
                default:
                    throw new InvalidDataException($"PNG row {y} has unknown filter type {filter}");
            }
        }

        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            var row = raw.AsSpan(y * (stride + 1) + 1, stride);
            var dst = rgb.AsSpan(y * width * 3, width * 3);
            if (channels == 3)
            {
                row.CopyTo(dst);
                continue;
            }
            for (var x = 0; x < width; x++)
            {
                if (channels <= 2)
                {
                    var g = row[x * channels];
                    dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = g;
                }
                else
                {
                    dst[3 * x] = row[4 * x];
                    dst[3 * x + 1] = row[4 * x + 1];
                    dst[3 * x + 2] = row[4 * x + 2];
                }
            }
        }
        return new Frame(width, height, rgb);
    }

    private static byte Paeth(byte a, byte b, byte c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
