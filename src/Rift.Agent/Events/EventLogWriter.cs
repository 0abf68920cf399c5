using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace Rift.Agent.Events;

/// <summary>When the event log forces its data to disk (fsync).</summary>
public enum EventLogFsync
{
    /// <summary>Never fsync while running (data reaches the OS as soon as the writer is idle); fsync on Flush/Dispose.</summary>
    Never = 0,
    /// <summary>fsync after every event other than per-step flags (interventions, episode ends, faults).</summary>
    Interventions = 1,
    /// <summary>fsync after every event.</summary>
    Always = 2,
    /// <summary>fsync at most every <see cref="EventLogOptions.FsyncIntervalMs"/>.</summary>
    Interval = 3,
}

/// <summary>The durable event log (section <c>EventLog</c>).</summary>
public sealed class EventLogOptions
{
    /// <summary>When to fsync. Default Interventions: every intervention is on disk shortly after it happens.</summary>
    public EventLogFsync Fsync { get; set; } = EventLogFsync.Interventions;

    /// <summary>Interval for <see cref="EventLogFsync.Interval"/>, in milliseconds. Default 1000.</summary>
    [Range(1, 3_600_000)]
    public int FsyncIntervalMs { get; set; } = 1000;

    /// <summary>Write per-step control-flag events (needed for step rates in summaries). Default true.</summary>
    public bool LogSteps { get; set; } = true;
}

/// <summary>
/// Append-only JSONL event log. <see cref="Append"/> serialises on the caller's thread and only enqueues, so the
/// control loop (and the human e-stop path) never waits for the disk; a dedicated writer thread writes and fsyncs
/// by <see cref="EventLogOptions.Fsync"/>. <see cref="Flush"/> waits until everything appended is on disk;
/// <see cref="Dispose"/> flushes and closes.
/// </summary>
public sealed class EventLogWriter : IEventSink, IDisposable
{
    private readonly EventLogOptions _o;
    private readonly FileStream _stream;
    private readonly BlockingCollection<Item> _queue = new(new ConcurrentQueue<Item>());
    private readonly Thread _writer;
    private Exception? _writerError;
    private bool _disposed;

    private readonly record struct Item(byte[]? Line, bool Durable, ManualResetEventSlim? Flushed);

    public EventLogWriter(string path, EventLogOptions? options = null)
    {
        _o = options ?? new EventLogOptions();
        Path = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        _stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16);
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "rift-event-log" };
        _writer.Start();
    }

    public string Path { get; }

    /// <summary>Events accepted (step events dropped by LogSteps = false are not counted).</summary>
    public long Appended => Interlocked.Read(ref _appended);

    private long _appended;

    public void Append(LoopEvent e)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (e.Type == LoopEventType.Step && !_o.LogSteps) return;
        var json = JsonSerializer.SerializeToUtf8Bytes(e, EventJson.Options);
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        var durable = _o.Fsync == EventLogFsync.Always || (_o.Fsync == EventLogFsync.Interventions && e.Type != LoopEventType.Step);
        _queue.Add(new Item(line, durable, null));
        Interlocked.Increment(ref _appended);
    }

    /// <summary>Blocks until every event appended so far is written and fsynced.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var done = new ManualResetEventSlim();
        _queue.Add(new Item(null, true, done));
        done.Wait();
        if (_writerError is not null) throw new IOException($"Event log {Path}: write failed: {_writerError.Message}", _writerError);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _queue.CompleteAdding();
        _writer.Join();
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        _queue.Dispose();
    }

    private void WriteLoop()
    {
        var lastSync = Environment.TickCount64;
        var dirty = false;
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            try
            {
                if (item.Line is not null)
                {
                    _stream.Write(item.Line);
                    dirty = true;
                }
                var sync = item.Durable || (_o.Fsync == EventLogFsync.Interval && Environment.TickCount64 - lastSync >= _o.FsyncIntervalMs);
                if (sync && dirty)
                {
                    _stream.Flush(flushToDisk: true);
                    lastSync = Environment.TickCount64;
                    dirty = false;
                }
                else if (dirty && _queue.Count == 0)
                {
                    _stream.Flush(flushToDisk: false); // idle: hand the bytes to the OS so a crash of this process loses nothing
                }
            }
            catch (Exception ex)
            {
                _writerError ??= ex;
            }
            finally
            {
                item.Flushed?.Set();
            }
        }
    }
}

/// <summary>Replays an event log.</summary>
public static class EventLogReader
{
    /// <summary>
    /// Reads every event of <paramref name="path"/> in order. A last line without its newline (torn by a crash)
    /// is skipped; a malformed complete line throws <see cref="InvalidDataException"/> naming the line.
    /// </summary>
    public static IEnumerable<LoopEvent> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Event log not found: {path}", path);
        string text;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream))
            text = reader.ReadToEnd(); // the log may still be open for appending
        var lines = text.Split('\n');
        // After a final newline Split yields one empty string; otherwise the last piece is a torn line.
        for (var i = 0; i < lines.Length - 1; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0) continue;
            LoopEvent? e;
            try
            {
                e = JsonSerializer.Deserialize<LoopEvent>(line, EventJson.Options);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}:{i + 1}: not a valid event: {ex.Message}", ex);
            }
            if (e is null) throw new InvalidDataException($"{path}:{i + 1}: empty event");
            yield return e;
        }
    }
}
