using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Rift.Memory.Embedded;

/// <summary>
/// The durable half of a collection: append-only segment files <c>seg-NNNNNNNN.log</c> in the collection's directory.
/// <code>
/// segment = header record*
/// header  = "RIFTSEG1" u32 version u32 dimension u8 metric u8[3] zero u32 crc32c(previous 20 bytes)      (24 bytes)
/// record  = u32 bodyLength u32 crc32c(body) body                                                        (little-endian)
/// body    = u8 kind=1 (upsert) u64 id f32 value f32 valueGain u8 source i64 episode i32 step i64 timeUnixMs
///           u16 taskBytes utf8 task f32[dimension] vector
///         | u8 kind=2 (delete) u64 id
/// </code>
/// Only the last segment can end in a torn record (segments are fsynced before the next one starts). On open, a bad
/// record at the end of the last segment is cut off; a bad record followed by valid ones, or in an earlier segment,
/// is corruption rather than a crash and raises <see cref="InvalidDataException"/> instead of dropping data silently.
/// </summary>
internal sealed partial class SegmentLog : IDisposable
{
    public const int HeaderBytes = 24;
    public const int FrameBytes = 8;
    public const byte KindUpsert = 1;
    public const byte KindDelete = 2;
    private const int FormatVersion = 1;
    private const int UpsertFixedBytes = 1 + 8 + 4 + 4 + 1 + 8 + 4 + 8 + 2;
    private static ReadOnlySpan<byte> Magic => "RIFTSEG1"u8;

    private readonly string _dir;
    private readonly int _dim;
    private readonly DistanceMetric _metric;
    private readonly VectorStoreOptions _options;
    private readonly Lock _gate = new();
    private readonly FileStream _lockFile;
    private readonly Timer? _fsyncTimer;
    private readonly List<int> _segments = [];
    private FileStream _current = null!;
    private bool _dirty;
    private bool _disposed;
    private string? _failed;

    /// <summary>Bytes of all segments (headers and records).</summary>
    public long TotalBytes { get; private set; }

    /// <summary>Number of records truncated from a torn tail when the log was opened.</summary>
    public long TruncatedBytes { get; private set; }

    public int SegmentCount => _segments.Count;

    private SegmentLog(string dir, int dim, DistanceMetric metric, VectorStoreOptions options)
    {
        _dir = dir;
        _dim = dim;
        _metric = metric;
        _options = options;
        Directory.CreateDirectory(dir);
        try
        {
            // One writer per collection across processes (advisory lock, released by the OS if the process dies).
            _lockFile = new FileStream(Path.Combine(dir, "LOCK"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new IOException($"vector collection at '{dir}' is open in another process ({e.Message})", e);
        }
        if (options.Fsync == FsyncPolicy.Batched)
            _fsyncTimer = new Timer(_ => BackgroundFsync(), null, options.FsyncIntervalMs, options.FsyncIntervalMs);
    }

    /// <summary>Opens (recovering a torn tail) or creates the log, calling <paramref name="replay"/> for every record in order.</summary>
    public static SegmentLog Open(string dir, int dim, DistanceMetric metric, VectorStoreOptions options, RecordHandler replay)
    {
        var log = new SegmentLog(dir, dim, metric, options);
        try
        {
            log.Recover(replay);
            return log;
        }
        catch
        {
            log.Dispose();
            throw;
        }
    }

    public delegate void RecordHandler(byte kind, ulong id, in MemoryPayload payload, ReadOnlySpan<float> vector);

    // ---- encoding -------------------------------------------------------------------------------------------------

    public static int UpsertRecordBytes(string task, int dim) => FrameBytes + UpsertFixedBytes + Encoding.UTF8.GetByteCount(task) + dim * 4;

    public const int DeleteRecordBytes = FrameBytes + 1 + 8;

    /// <summary>Writes a framed upsert record into <paramref name="dst"/>; returns its length.</summary>
    public int EncodeUpsert(Span<byte> dst, ulong id, in MemoryPayload p, ReadOnlySpan<float> vector)
    {
        var body = dst[FrameBytes..];
        var o = 0;
        body[o++] = KindUpsert;
        BinaryPrimitives.WriteUInt64LittleEndian(body[o..], id); o += 8;
        BinaryPrimitives.WriteSingleLittleEndian(body[o..], p.Value); o += 4;
        BinaryPrimitives.WriteSingleLittleEndian(body[o..], p.ValueGain); o += 4;
        body[o++] = (byte)p.Source;
        BinaryPrimitives.WriteInt64LittleEndian(body[o..], p.Episode); o += 8;
        BinaryPrimitives.WriteInt32LittleEndian(body[o..], p.Step); o += 4;
        BinaryPrimitives.WriteInt64LittleEndian(body[o..], p.TimeUnixMs); o += 8;
        var taskLen = Encoding.UTF8.GetBytes(p.Task, body[(o + 2)..]);
        if (taskLen > ushort.MaxValue) throw new ArgumentException($"task name is {taskLen} bytes long (at most {ushort.MaxValue})");
        BinaryPrimitives.WriteUInt16LittleEndian(body[o..], (ushort)taskLen); o += 2 + taskLen;
        MemoryMarshal.AsBytes(vector).CopyTo(body[o..]);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("segment files are little-endian");
        o += vector.Length * 4;
        Frame(dst, o);
        return FrameBytes + o;
    }

    public static int EncodeDelete(Span<byte> dst, ulong id)
    {
        var body = dst[FrameBytes..];
        body[0] = KindDelete;
        BinaryPrimitives.WriteUInt64LittleEndian(body[1..], id);
        Frame(dst, 9);
        return DeleteRecordBytes;
    }

    private static void Frame(Span<byte> dst, int bodyLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dst, (uint)bodyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(dst[4..], Crc32C.Compute(dst.Slice(FrameBytes, bodyLength)));
    }

    /// <summary>Length of the valid record at <paramref name="data"/>[0..], or −1 if it is torn or corrupt.</summary>
    private int TryDecode(ReadOnlySpan<byte> data, RecordHandler? handler)
    {
        if (data.Length < FrameBytes) return -1;
        var len = BinaryPrimitives.ReadUInt32LittleEndian(data);
        var maxBody = UpsertFixedBytes + ushort.MaxValue + _dim * 4;
        if (len < 9 || len > maxBody || len > data.Length - FrameBytes) return -1;
        var body = data.Slice(FrameBytes, (int)len);
        if (Crc32C.Compute(body) != BinaryPrimitives.ReadUInt32LittleEndian(data[4..])) return -1;
        var kind = body[0];
        var id = BinaryPrimitives.ReadUInt64LittleEndian(body[1..]);
        if (kind == KindDelete)
        {
            if (len != 9) return -1;
            handler?.Invoke(kind, id, default, default);
            return FrameBytes + 9;
        }
        if (kind != KindUpsert || len < UpsertFixedBytes) return -1;
        var o = 9;
        var value = BinaryPrimitives.ReadSingleLittleEndian(body[o..]); o += 4;
        var gain = BinaryPrimitives.ReadSingleLittleEndian(body[o..]); o += 4;
        var source = (RecoverySource)body[o++];
        var episode = BinaryPrimitives.ReadInt64LittleEndian(body[o..]); o += 8;
        var step = BinaryPrimitives.ReadInt32LittleEndian(body[o..]); o += 4;
        var time = BinaryPrimitives.ReadInt64LittleEndian(body[o..]); o += 8;
        int taskLen = BinaryPrimitives.ReadUInt16LittleEndian(body[o..]); o += 2;
        if (len != UpsertFixedBytes + taskLen + _dim * 4) return -1;
        if (handler is not null)
        {
            var task = Encoding.UTF8.GetString(body.Slice(o, taskLen));
            o += taskLen;
            var vector = MemoryMarshal.Cast<byte, float>(body.Slice(o, _dim * 4));
            handler(kind, id, new MemoryPayload(task, value, gain, source, episode, step, time), vector);
        }
        return FrameBytes + (int)len;
    }

    // ---- recovery -------------------------------------------------------------------------------------------------

    private static string SegmentName(int n) => $"seg-{n.ToString("D8", CultureInfo.InvariantCulture)}.log";

    private string SegmentPath(int n) => Path.Combine(_dir, SegmentName(n));

    private void Recover(RecordHandler replay)
    {
        foreach (var tmp in Directory.EnumerateFiles(_dir, "*.tmp")) File.Delete(tmp);
        foreach (var file in Directory.EnumerateFiles(_dir, "seg-*.log"))
        {
            var stem = Path.GetFileNameWithoutExtension(file)[4..];
            if (int.TryParse(stem, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) _segments.Add(n);
        }
        _segments.Sort();
        if (_segments.Count == 0)
        {
            _segments.Add(1);
            StartSegment(1);
            return;
        }

        for (var i = 0; i < _segments.Count; i++)
        {
            var path = SegmentPath(_segments[i]);
            var last = i == _segments.Count - 1;
            var data = File.ReadAllBytes(path);
            if (data.Length < HeaderBytes && last)
            {
                // Crashed while creating this segment: nothing in it was ever acknowledged.
                TruncatedBytes += data.Length;
                _segments.RemoveAt(i);
                File.Delete(path);
                var n = _segments.Count > 0 ? _segments[^1] + 1 : 1;
                _segments.Add(n);
                StartSegment(n);
                return;
            }
            CheckHeader(path, data);
            var offset = HeaderBytes;
            while (offset < data.Length)
            {
                var used = TryDecode(data.AsSpan(offset), replay);
                if (used > 0)
                {
                    offset += used;
                    continue;
                }
                if (!last)
                    throw new InvalidDataException($"segment '{path}' has a corrupt record at byte {offset} (of {data.Length}); it is not the last segment, so this is not a torn write");
                for (var probe = offset + 1; probe + FrameBytes < data.Length; probe++)
                    if (TryDecode(data.AsSpan(probe), null) > 0)
                        throw new InvalidDataException($"segment '{path}' has a corrupt record at byte {offset} followed by a valid record at byte {probe}; this is corruption, not a torn write, so nothing is dropped automatically");
                TruncatedBytes += data.Length - offset;
                using (var fs = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read))
                {
                    fs.SetLength(offset);
                    fs.Flush(true);
                }
                break;
            }
            TotalBytes += Math.Min(offset, data.Length);
        }
        _current = new FileStream(SegmentPath(_segments[^1]), FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0);
        _current.Seek(0, SeekOrigin.End);
    }

    private void CheckHeader(string path, ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderBytes || !data[..8].SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt32LittleEndian(data[20..]) != Crc32C.Compute(data[..20]))
            throw new InvalidDataException($"segment '{path}' has no valid header");
        var version = BinaryPrimitives.ReadInt32LittleEndian(data[8..]);
        var dim = BinaryPrimitives.ReadInt32LittleEndian(data[12..]);
        var metric = (DistanceMetric)data[16];
        if (version != FormatVersion) throw new InvalidDataException($"segment '{path}' has format version {version}; this build reads {FormatVersion}");
        if (dim != _dim || metric != _metric)
            throw new InvalidDataException($"segment '{path}' holds dimension {dim} / {metric} but the collection is {_dim} / {_metric}");
    }

    private byte[] Header()
    {
        var h = new byte[HeaderBytes];
        Magic.CopyTo(h);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(12), _dim);
        h[16] = (byte)_metric;
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(20), Crc32C.Compute(h.AsSpan(0, 20)));
        return h;
    }

    /// <summary>Creates segment n with its header, durable before any record goes in.</summary>
    private void StartSegment(int n)
    {
        var fs = new FileStream(SegmentPath(n), FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
        fs.Write(Header());
        fs.Flush(true);
        FsyncDirectory(_dir);
        _current = fs;
        TotalBytes += HeaderBytes;
    }

    // ---- appends --------------------------------------------------------------------------------------------------

    /// <summary>Appends already-framed records as one write and makes them as durable as the fsync policy says.</summary>
    public void Append(ReadOnlySpan<byte> records)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_current.Length > HeaderBytes && _current.Length + records.Length > _options.SegmentMaxBytes)
            {
                _current.Flush(true);
                _current.Dispose();
                var n = _segments[^1] + 1;
                _segments.Add(n);
                StartSegment(n);
            }
            if (_failed is not null) throw new IOException(_failed);
            var start = _current.Position;
            try
            {
                _current.Write(records);
                if (_options.Fsync == FsyncPolicy.EveryWrite) _current.Flush(true);
                else _dirty = true;
            }
            catch (Exception e)
            {
                // A partial record must not stay in front of later ones (that would read as corruption, not a torn
                // tail): cut it off, or refuse further writes if even that fails.
                try
                {
                    _current.SetLength(start);
                    _current.Seek(start, SeekOrigin.Begin);
                }
                catch (Exception)
                {
                    _failed = $"segment log in '{_dir}' refused further writes after a failed write ({e.Message})";
                }
                throw;
            }
            TotalBytes += records.Length;
        }
    }

    public void Flush()
    {
        lock (_gate)
        {
            if (_disposed || !_dirty) return;
            _current.Flush(true);
            _dirty = false;
        }
    }

    private void BackgroundFsync()
    {
        try
        {
            Flush();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// Rewrites the log as one segment holding <paramref name="liveRecords"/> (framed records), then removes the old
    /// segments. A crash at any point leaves a log that replays to the same items (the new segment only repeats
    /// upserts of items that are live after the old segments).
    /// </summary>
    public void Compact(IEnumerable<ReadOnlyMemory<byte>> liveRecords)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _current.Flush(true);
            var n = _segments[^1] + 1;
            var tmp = SegmentPath(n) + ".tmp";
            long bytes = HeaderBytes;
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                fs.Write(Header());
                foreach (var r in liveRecords)
                {
                    fs.Write(r.Span);
                    bytes += r.Length;
                }
                fs.Flush(true);
            }
            File.Move(tmp, SegmentPath(n));
            FsyncDirectory(_dir);
            _current.Dispose();
            foreach (var old in _segments) File.Delete(SegmentPath(old));
            FsyncDirectory(_dir);
            _segments.Clear();
            _segments.Add(n);
            _current = new FileStream(SegmentPath(n), FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 0);
            _current.Seek(0, SeekOrigin.End);
            TotalBytes = bytes;
            _dirty = false;
        }
    }

    public void Dispose()
    {
        _fsyncTimer?.Dispose();
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_current is not null)
            {
                if (_options.Fsync != FsyncPolicy.None) _current.Flush(true);
                _current.Dispose();
            }
            _lockFile.Dispose();
        }
    }

    // ---- directory fsync (makes file creation, rename and deletion durable on POSIX) -------------------------------

    private static void FsyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(dir, 0 /* O_RDONLY */);
        if (fd < 0) return;
        _ = Fsync(fd);
        _ = Close(fd);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
