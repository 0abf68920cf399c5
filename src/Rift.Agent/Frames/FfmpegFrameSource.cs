using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using Rift.Learning;

namespace Rift.Agent.Frames;

/// <summary>Where camera frames come from.</summary>
public enum CameraKind
{
    /// <summary>From the input: rtsp:// or rtsps:// → Rtsp, /dev/video* → V4l2, lavfi: → Lavfi, otherwise File.</summary>
    Auto = 0,
    File = 1,
    V4l2 = 2,
    Rtsp = 3,
    /// <summary>An ffmpeg lavfi graph (e.g. <c>testsrc=size=320x240:rate=30</c>): synthetic frames for demos and tests.</summary>
    Lavfi = 4,
}

/// <summary>A camera or video read through ffmpeg as rawvideo rgb24 (section <c>Camera</c>).</summary>
public sealed class CameraOptions
{
    /// <summary>Video file, V4L2 device (/dev/video0), RTSP URL, or lavfi:GRAPH. Empty (default): no camera.</summary>
    public string Input { get; set; } = "";

    /// <summary>How to open <see cref="Input"/>. Default Auto.</summary>
    public CameraKind Kind { get; set; } = CameraKind.Auto;

    /// <summary>Output frame width in pixels (ffmpeg scales). Default 224.</summary>
    [Range(8, 8192)]
    public int Width { get; set; } = 224;

    /// <summary>Output frame height in pixels. Default 224.</summary>
    [Range(8, 8192)]
    public int Height { get; set; } = 224;

    /// <summary>Output frame rate (ffmpeg fps filter); 0 keeps the source rate. Default 10 (the control rate).</summary>
    [Range(0.0, 1000.0)]
    public double Rate { get; set; } = 10;

    /// <summary>Files: read at the file's own speed (ffmpeg -re) like a live camera. Default true.</summary>
    public bool Realtime { get; set; } = true;

    /// <summary>Files: start over at the end instead of ending the stream. Default false.</summary>
    public bool Loop { get; set; }

    /// <summary>A frame older than this (ms) is stale: the stream is treated as broken. Default 1000.</summary>
    [Range(10, 600_000)]
    public int StaleMs { get; set; } = 1000;

    /// <summary>Time allowed for the first frame after start, in ms. Default 5000.</summary>
    [Range(10, 600_000)]
    public int StartTimeoutMs { get; set; } = 5000;

    /// <summary>The ffmpeg executable. Default "ffmpeg" (Debian package).</summary>
    [Required]
    public string FfmpegPath { get; set; } = "ffmpeg";
}

/// <summary>State of a frame source.</summary>
public enum FrameSourceState
{
    Starting = 0,
    Running = 1,
    /// <summary>The stream ended (end of file without <see cref="CameraOptions.Loop"/>).</summary>
    Ended = 2,
    /// <summary>ffmpeg could not open the input, died, or the stream broke; see <see cref="FfmpegFrameSource.Fault"/>.</summary>
    Faulted = 3,
    Disposed = 4,
}

/// <summary>
/// Frames from ffmpeg over a pipe (<c>-f rawvideo -pix_fmt rgb24 pipe:1</c>) for video files, V4L2 cameras, RTSP
/// streams and lavfi graphs, scaled to the configured size and rate. A reader thread keeps the latest frame; a
/// missing device, a broken stream or an exited ffmpeg never throws into the caller: the source goes to
/// <see cref="FrameSourceState.Faulted"/> (or Ended), raises <see cref="Faulted"/> once, and
/// <see cref="TryGetLatest"/> reports why, so the control loop can stop safely. <see cref="Dispose"/> kills ffmpeg and
/// waits for it.
/// </summary>
public sealed class FfmpegFrameSource : IDisposable
{
    private readonly CameraOptions _o;
    private readonly object _gate = new();
    private readonly Queue<string> _stderr = new();
    private readonly SemaphoreSlim _arrived = new(0, int.MaxValue);
    private Process? _process;
    private Thread? _reader;
    private Frame? _latest;
    private long _latestTicks;
    private long _frames;
    private volatile FrameSourceState _state = FrameSourceState.Starting;
    private string? _fault;
    private readonly long _startTicks = Stopwatch.GetTimestamp();

    public FfmpegFrameSource(CameraOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Input)) throw new ArgumentException("Camera:Input is empty.", nameof(options));
        _o = options;
        Arguments = BuildArguments(options);
    }

    public CameraOptions Options => _o;
    public IReadOnlyList<string> Arguments { get; }
    public FrameSourceState State => _state;
    public long FramesRead => Interlocked.Read(ref _frames);

    /// <summary>Why the source faulted or ended (ffmpeg's last error lines), else null.</summary>
    public string? Fault
    {
        get
        {
            lock (_gate) return _fault;
        }
    }

    /// <summary>The ffmpeg process id while running (tests check it exits on dispose).</summary>
    public int? ProcessId { get; private set; }

    /// <summary>Raised once, on the reader thread, when the source faults or ends; handlers must not block.</summary>
    public event Action<FrameSourceState, string>? Faulted;

    /// <summary>Starts ffmpeg. Never throws for a bad input: a start failure faults the source.</summary>
    public FfmpegFrameSource Start()
    {
        var psi = new ProcessStartInfo(_o.FfmpegPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var a in Arguments) psi.ArgumentList.Add(a);
        try
        {
            var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
            p.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_gate)
                {
                    _stderr.Enqueue(e.Data);
                    while (_stderr.Count > 20) _stderr.Dequeue();
                }
            };
            p.Start();
            p.BeginErrorReadLine();
            _process = p;
            ProcessId = p.Id;
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            SetFault(FrameSourceState.Faulted, $"cannot start {_o.FfmpegPath}: {e.Message}");
            return this;
        }
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "rift-frames" };
        _reader.Start();
        return this;
    }

    /// <summary>
    /// The latest frame if the source is running and the frame is fresh (younger than <see cref="CameraOptions.StaleMs"/>,
    /// or within <see cref="CameraOptions.StartTimeoutMs"/> of the start for the first one); otherwise false with the reason.
    /// </summary>
    public bool TryGetLatest(out Frame frame, out string problem)
    {
        frame = null!;
        problem = "";
        var state = _state;
        if (state is FrameSourceState.Faulted or FrameSourceState.Ended or FrameSourceState.Disposed)
        {
            problem = $"camera {state.ToString().ToLowerInvariant()}: {Fault ?? "no reason"}";
            return false;
        }
        Frame? latest;
        long ticks;
        lock (_gate)
        {
            latest = _latest;
            ticks = _latestTicks;
        }
        if (latest is null)
        {
            var waited = Stopwatch.GetElapsedTime(_startTicks).TotalMilliseconds;
            problem = waited > _o.StartTimeoutMs ? $"camera: no frame within Camera:StartTimeoutMs = {_o.StartTimeoutMs} ms" : "camera: starting";
            return false;
        }
        var age = Stopwatch.GetElapsedTime(ticks).TotalMilliseconds;
        if (age > _o.StaleMs)
        {
            problem = $"camera: latest frame is {age:0} ms old (Camera:StaleMs = {_o.StaleMs})";
            return false;
        }
        frame = latest;
        return true;
    }

    /// <summary>Waits for the next frame after the call (null when the source ended, faulted or the timeout passed).</summary>
    public Frame? ReadNext(TimeSpan timeout)
    {
        var seen = FramesRead;
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (FramesRead > seen)
                lock (_gate) return _latest;
            if (_state is FrameSourceState.Faulted or FrameSourceState.Ended or FrameSourceState.Disposed) return null;
            var left = (deadline - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
            if (left <= 0) return null;
            _arrived.Wait(TimeSpan.FromMilliseconds(Math.Min(left, 50)));
        }
    }

    private void ReadLoop()
    {
        var size = _o.Width * _o.Height * 3;
        var stdout = _process!.StandardOutput.BaseStream;
        try
        {
            while (_state is FrameSourceState.Starting or FrameSourceState.Running)
            {
                var buffer = new byte[size];
                var got = 0;
                while (got < size)
                {
                    var n = stdout.Read(buffer, got, size - got);
                    if (n == 0) break;
                    got += n;
                }
                if (got < size)
                {
                    if (_state == FrameSourceState.Disposed) return;
                    _process.WaitForExit(2000);
                    var code = _process.HasExited ? _process.ExitCode : -1;
                    var clean = code == 0 && got == 0;
                    SetFault(clean ? FrameSourceState.Ended : FrameSourceState.Faulted,
                        clean ? "end of stream" : $"ffmpeg exited with code {code}{(got > 0 ? $" mid-frame ({got} of {size} bytes)" : "")}: {StderrTail()}");
                    return;
                }
                var frame = new Frame(_o.Width, _o.Height, buffer);
                lock (_gate)
                {
                    _latest = frame;
                    _latestTicks = Stopwatch.GetTimestamp();
                }
                Interlocked.Increment(ref _frames);
                if (_state == FrameSourceState.Starting) _state = FrameSourceState.Running;
                _arrived.Release();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            if (_state != FrameSourceState.Disposed) SetFault(FrameSourceState.Faulted, $"reading frames failed: {e.Message}");
        }
    }

    private string StderrTail()
    {
        Thread.Sleep(20); // let the last stderr lines arrive
        lock (_gate) return _stderr.Count == 0 ? "(no message)" : string.Join(" | ", _stderr.TakeLast(3));
    }

    private void SetFault(FrameSourceState state, string reason)
    {
        lock (_gate)
        {
            if (_state is FrameSourceState.Faulted or FrameSourceState.Ended or FrameSourceState.Disposed) return;
            _fault = reason;
            _state = state;
        }
        _arrived.Release();
        try
        {
            Faulted?.Invoke(state, reason);
        }
        catch (Exception)
        {
            // A faulty handler must not take the reader (or the process) down.
        }
    }

    /// <summary>Kills ffmpeg (and its children), waits for it to exit and for the reader thread to finish.</summary>
    public void Dispose()
    {
        if (_state == FrameSourceState.Disposed) return;
        lock (_gate) _state = FrameSourceState.Disposed;
        var p = _process;
        if (p is not null)
        {
            try
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (Exception e) when (e is InvalidOperationException or Win32Exception)
            {
            }
        }
        _reader?.Join(5000);
        p?.Dispose();
        _arrived.Release();
    }

    /// <summary>The ffmpeg command line for <paramref name="o"/>: input options, then scale/fps, rawvideo rgb24 on stdout.</summary>
    public static IReadOnlyList<string> BuildArguments(CameraOptions o)
    {
        var kind = o.Kind == CameraKind.Auto ? Detect(o.Input) : o.Kind;
        var input = kind == CameraKind.Lavfi && o.Input.StartsWith("lavfi:", StringComparison.Ordinal) ? o.Input["lavfi:".Length..] : o.Input;
        var args = new List<string> { "-hide_banner", "-loglevel", "error", "-nostdin" };
        switch (kind)
        {
            case CameraKind.File:
                if (o.Realtime) args.Add("-re");
                if (o.Loop) args.AddRange(["-stream_loop", "-1"]);
                break;
            case CameraKind.V4l2:
                args.AddRange(["-f", "v4l2"]);
                break;
            case CameraKind.Rtsp:
                args.AddRange(["-rtsp_transport", "tcp", "-timeout", "5000000"]);
                break;
            case CameraKind.Lavfi:
                if (o.Realtime) args.Add("-re");
                args.AddRange(["-f", "lavfi"]);
                break;
        }
        args.AddRange(["-i", input, "-an", "-sn"]);
        var filters = new List<string>();
        if (o.Rate > 0) filters.Add("fps=" + o.Rate.ToString(CultureInfo.InvariantCulture));
        filters.Add($"scale={o.Width}:{o.Height}");
        args.AddRange(["-vf", string.Join(",", filters), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]);
        return args;
    }

    public static CameraKind Detect(string input) =>
        input.StartsWith("rtsp://", StringComparison.OrdinalIgnoreCase) || input.StartsWith("rtsps://", StringComparison.OrdinalIgnoreCase) ? CameraKind.Rtsp
        : input.StartsWith("/dev/video", StringComparison.Ordinal) ? CameraKind.V4l2
        : input.StartsWith("lavfi:", StringComparison.Ordinal) ? CameraKind.Lavfi
        : CameraKind.File;
}
