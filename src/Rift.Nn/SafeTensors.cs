using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Rift.Nn;

/// <summary>A safetensors file is truncated, corrupt, or does not fit the module it is loaded into.</summary>
public sealed class SafeTensorsException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// safetensors I/O: 8-byte little-endian header length, a JSON header mapping names to
/// {dtype, shape, data_offsets} (plus optional <c>__metadata__</c> strings), then raw little-endian data.
/// Writes F32; reads F32, F64, F16 and BF16 (converted to float32).
/// </summary>
public static class SafeTensors
{
    private const long MaxHeader = 100L << 20;

    public static void Save(string path, IEnumerable<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var seen = new HashSet<string>();
        foreach (var (name, _) in list)
            if (string.IsNullOrEmpty(name) || !seen.Add(name) || name == "__metadata__")
                throw new ArgumentException($"safetensors: tensor name '{name}' is empty, reserved or repeated");
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long off = 0;
            foreach (var (name, t) in list)
            {
                w.WriteStartObject(name);
                w.WriteString("dtype", "F32");
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(off);
                off += 4L * t.Size;
                w.WriteNumberValue(off);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        int len = (int)ms.Length;
        int padded = (len + 7) / 8 * 8;
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var tmp = full + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        {
            Span<byte> lenBytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(lenBytes, (ulong)padded);
            fs.Write(lenBytes);
            fs.Write(ms.GetBuffer(), 0, len);
            for (int i = len; i < padded; i++) fs.WriteByte((byte)' ');
            foreach (var (_, t) in list)
            {
                var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Span);
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors writing needs a little-endian machine");
                fs.Write(bytes);
            }
        }
        File.Move(tmp, full, overwrite: true);
    }

    /// <summary>Reads every tensor; throws <see cref="SafeTensorsException"/> on any inconsistency.</summary>
    public static Dictionary<string, Tensor> Load(string path) => Read(path, out _);

    /// <summary>The <c>__metadata__</c> strings of a file (empty if none).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        Read(path, out var meta);
        return meta;
    }

    private static Dictionary<string, Tensor> Read(string path, out Dictionary<string, string> metadata)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SafeTensorsException($"{path}: cannot read safetensors file: {e.Message}", e);
        }
        if (bytes.Length < 8) throw new SafeTensorsException($"{path}: truncated safetensors file ({bytes.Length} bytes, header length needs 8)");
        ulong hlen = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (hlen > (ulong)MaxHeader || (long)hlen > bytes.Length - 8)
            throw new SafeTensorsException($"{path}: corrupt or truncated safetensors file: header length {hlen} exceeds file size {bytes.Length}");
        int dataStart = 8 + (int)hlen;
        long dataLen = bytes.Length - dataStart;
        metadata = [];
        var result = new Dictionary<string, Tensor>();
        var ranges = new List<(long begin, long end, string name)>();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes.AsMemory(8, (int)hlen));
        }
        catch (JsonException e)
        {
            throw new SafeTensorsException($"{path}: corrupt safetensors header (invalid JSON): {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsException($"{path}: corrupt safetensors header (not a JSON object)");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw new SafeTensorsException($"{path}: __metadata__ is not an object");
                    foreach (var kv in prop.Value.EnumerateObject())
                        metadata[kv.Name] = kv.Value.ValueKind == JsonValueKind.String ? kv.Value.GetString()! : kv.Value.GetRawText();
                    continue;
                }
                string name = prop.Name;
                try
                {
                    var e = prop.Value;
                    string dtype = e.GetProperty("dtype").GetString() ?? "";
                    var shape = e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                    var offs = e.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                    if (offs.Length != 2) throw new SafeTensorsException($"{path}: tensor '{name}': data_offsets must have two entries");
                    if (shape.Any(d => d < 0)) throw new SafeTensorsException($"{path}: tensor '{name}': negative dimension in shape {Tensor.ShapeString(shape)}");
                    int elem = dtype switch { "F32" => 4, "F64" => 8, "F16" => 2, "BF16" => 2, _ => 0 };
                    if (elem == 0) throw new SafeTensorsException($"{path}: tensor '{name}': unsupported dtype {dtype} (F32, F64, F16, BF16 are read)");
                    long numel = 1;
                    foreach (var d in shape) numel *= d;
                    long begin = offs[0], end = offs[1];
                    if (begin < 0 || end < begin || end > dataLen)
                        throw new SafeTensorsException($"{path}: tensor '{name}': data_offsets [{begin}, {end}) outside the data section of {dataLen} bytes (truncated file?)");
                    if (end - begin != numel * elem)
                        throw new SafeTensorsException($"{path}: tensor '{name}': {end - begin} bytes do not hold {dtype} shape {Tensor.ShapeString(shape)}");
                    var t = new Tensor(shape, null, false, name);
                    var src = bytes.AsSpan(dataStart + (int)begin, (int)(end - begin));
                    var dst = t.Span;
                    for (int i = 0; i < dst.Length; i++)
                    {
                        dst[i] = dtype switch
                        {
                            "F32" => BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]),
                            "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]),
                            "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(src[(2 * i)..]),
                            _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]) << 16),
                        };
                    }
                    result[name] = t;
                    ranges.Add((begin, end, name));
                }
                catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    throw new SafeTensorsException($"{path}: tensor '{name}': malformed header entry ({ex.Message})", ex);
                }
            }
        }
        // The data section must be covered exactly, without holes or overlaps.
        ranges.Sort((x, y) => x.begin.CompareTo(y.begin));
        long pos = 0;
        foreach (var (begin, end, name) in ranges)
        {
            if (begin != pos) throw new SafeTensorsException($"{path}: tensor '{name}' starts at byte {begin}, expected {pos} (overlapping or missing data)");
            pos = end;
        }
        if (pos != dataLen) throw new SafeTensorsException($"{path}: data section has {dataLen} bytes but tensors cover {pos} (truncated or trailing data)");
        return result;
    }

    internal static string Utf8(ReadOnlySpan<byte> b) => Encoding.UTF8.GetString(b);
}
