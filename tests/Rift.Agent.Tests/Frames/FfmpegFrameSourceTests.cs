using System.Diagnostics;
using Rift.Agent.Bridge;
using Rift.Agent.Events;
using Rift.Agent.Frames;
using Rift.Agent.Loop;
using Rift.Agent.Tests.Bridge;
using Rift.Learning;

namespace Rift.Agent.Tests.Frames;

public sealed class FfmpegFrameSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rift-frames-").FullName;

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

    /// <summary>A 1 s, 25 fps, 64×48 test video made by ffmpeg's lavfi testsrc (ffv1 in Matroska: lossless, always built in).</summary>
    private string TestVideo(string name = "test.mkv", double seconds = 1)
    {
        var path = Path.Combine(_dir, name);
        var psi = new ProcessStartInfo("ffmpeg") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "lavfi", "-i", $"testsrc=size=64x48:rate=25:duration={seconds}", "-c:v", "ffv1", path })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"ffmpeg could not make the test video: {err}");
        return path;
    }

    private static CameraOptions Options(string input, int w = 32, int h = 24, double rate = 0, bool realtime = false) =>
        new() { Input = input, Width = w, Height = h, Rate = rate, Realtime = realtime, StartTimeoutMs = 5000 };

    private static List<Frame> ReadAll(FfmpegFrameSource s)
    {
        var frames = new List<Frame>();
        while (s.ReadNext(TimeSpan.FromSeconds(5)) is { } f) frames.Add(f);
        return frames;
    }

    [Fact]
    public void File_ScaledAllFrames_ThenEnded()
    {
        using var s = new FfmpegFrameSource(Options(TestVideo())).Start();
        // Not realtime: frames may come faster than ReadNext polls, so count what the reader saw.
        while (s.State is FrameSourceState.Starting or FrameSourceState.Running) s.ReadNext(TimeSpan.FromSeconds(5));
        Assert.Equal(FrameSourceState.Ended, s.State);
        Assert.Equal(25, s.FramesRead);
        Assert.False(s.TryGetLatest(out _, out var problem));
        Assert.Contains("ended", problem);
    }

    [Fact]
    public void File_RateAndSize_Respected()
    {
        using var s = new FfmpegFrameSource(Options(TestVideo(), w: 40, h: 30, rate: 5, realtime: true)).Start();
        var frames = ReadAll(s);
        Assert.Equal(FrameSourceState.Ended, s.State);
        Assert.InRange(s.FramesRead, 4, 6); // 1 s at 5 fps
        Assert.All(frames, f => Assert.Equal((40, 30, 40 * 30 * 3), (f.Width, f.Height, f.Rgb.Length)));
        // testsrc has colour bars: the frame is far from uniform.
        var f0 = frames[0].Rgb;
        Assert.True(f0.Max() - f0.Min() > 100, "test pattern expected");
    }

    [Fact]
    public void Lavfi_Live_LatestFreshAndDisposeKillsFfmpeg()
    {
        var s = new FfmpegFrameSource(Options("lavfi:testsrc=size=64x48:rate=30", rate: 30, realtime: true)).Start();
        Assert.NotNull(s.ReadNext(TimeSpan.FromSeconds(5)));
        Assert.NotNull(s.ReadNext(TimeSpan.FromSeconds(5)));
        Assert.True(s.TryGetLatest(out var frame, out var problem), problem);
        Assert.Equal(32, frame.Width);
        var pid = s.ProcessId!.Value;
        var sw = Stopwatch.StartNew();
        s.Dispose();
        Assert.True(sw.ElapsedMilliseconds < 3000, $"dispose took {sw.ElapsedMilliseconds} ms");
        Assert.Equal(FrameSourceState.Disposed, s.State);
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid)); // exited and reaped
    }

    [Theory]
    [InlineData("/dev/video99")]
    [InlineData("/no/such/video.mkv")]
    [InlineData("rtsp://127.0.0.1:1/cam")]
    public void MissingInput_Faulted_NoThrow(string input)
    {
        using var s = new FfmpegFrameSource(Options(input));
        string? raised = null;
        s.Faulted += (_, reason) => raised = reason;
        s.Start();
        Assert.Null(s.ReadNext(TimeSpan.FromSeconds(10)));
        Assert.Equal(FrameSourceState.Faulted, s.State);
        for (var i = 0; i < 200 && Volatile.Read(ref raised) is null; i++) Thread.Sleep(10); // raised on the reader thread
        Assert.NotNull(raised);
        Assert.False(s.TryGetLatest(out _, out var problem));
        Assert.Contains("faulted", problem);
    }

    [Fact]
    public void BrokenStream_TruncatedFile_FaultedOrEndedNeverThrows()
    {
        var good = File.ReadAllBytes(TestVideo("full.mkv", seconds: 2));
        var broken = Path.Combine(_dir, "broken.mkv");
        File.WriteAllBytes(broken, good.AsSpan(0, good.Length / 3).ToArray());
        using var s = new FfmpegFrameSource(Options(broken)).Start();
        while (s.State is FrameSourceState.Starting or FrameSourceState.Running) s.ReadNext(TimeSpan.FromSeconds(5));
        Assert.True(s.State is FrameSourceState.Faulted or FrameSourceState.Ended);
        Assert.True(s.FramesRead < 50, $"{s.FramesRead} frames from a third of a 50-frame file");
    }

    [Fact]
    public void MissingFfmpeg_Faulted()
    {
        using var s = new FfmpegFrameSource(new CameraOptions { Input = "x.mkv", FfmpegPath = "/nonexistent/ffmpeg" }).Start();
        Assert.Equal(FrameSourceState.Faulted, s.State);
        Assert.Contains("cannot start", s.Fault);
    }

    [Fact]
    public void Arguments_PerKind_OpenInputAsExpected()
    {
        Assert.Equal(CameraKind.V4l2, FfmpegFrameSource.Detect("/dev/video0"));
        Assert.Equal(CameraKind.Rtsp, FfmpegFrameSource.Detect("rtsp://cam/stream"));
        Assert.Equal(CameraKind.File, FfmpegFrameSource.Detect("run.mp4"));
        var v4l2 = FfmpegFrameSource.BuildArguments(new CameraOptions { Input = "/dev/video0", Width = 224, Height = 224, Rate = 10 });
        Assert.Equal(["-f", "v4l2", "-i", "/dev/video0"], v4l2.SkipWhile(a => a != "-f").Take(4));
        Assert.Contains("fps=10,scale=224:224", v4l2);
        Assert.Equal(["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], v4l2.TakeLast(5));
        var rtsp = FfmpegFrameSource.BuildArguments(new CameraOptions { Input = "rtsp://cam/s" });
        Assert.Contains("-rtsp_transport", rtsp);
        var loop = FfmpegFrameSource.BuildArguments(new CameraOptions { Input = "a.mp4", Loop = true, Realtime = true });
        Assert.Contains("-stream_loop", loop);
        Assert.Contains("-re", loop);
    }

    [Fact]
    public async Task Bridge_CameraMissing_SafeStopAndEventNotCrash()
    {
        using var camera = new FfmpegFrameSource(Options("/dev/video99")).Start();
        await using var server = new BridgeServer(new BridgeOptions { Urls = "http://127.0.0.1:0", EventLogDirectory = _dir }, new FakeWorldFactory(), camera: camera);
        await server.StartAsync();
        await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
        await client.HelloAsync("fake", 2, 2, robot: "cam");
        await client.BeginAsync(0, 0);
        var obs = new Observation { Proprio = [0.1f], ObjectState = [1f], Embedding = [0.1f, 0.9f, 0.5f] };
        var d = await client.StepAsync(0, obs, HumanDecision.None);
        Assert.True(d.Stop);
        Assert.Equal([0f, 0f], d.Action!);
        Assert.Contains(d.Events!, e => e.Type == LoopEventType.AgentFault && e.Source == EventSource.Safety && e.Reason!.StartsWith("camera"));
        var ended = await client.EndAsync(null, null, false, false, false);
        Assert.Equal("camera_fault", ended.Result!.EndReason);
        Assert.Equal("pong", (await client.PingAsync()).Type);
        await client.DisposeAsync();
        await server.StopAsync();
        var log = Directory.GetFiles(_dir, "events-cam-*.jsonl").Single();
        Assert.Contains(EventLogReader.Read(log), e => e.Type == LoopEventType.Stopped && e.Reason == "camera_fault");
    }

    [Fact]
    public async Task Bridge_CameraRunning_FramesAttachedToObservations()
    {
        using var camera = new FfmpegFrameSource(Options("lavfi:testsrc=size=64x48:rate=30", rate: 30, realtime: true)).Start();
        var seen = new List<Frame?>();
        var factory = new FrameRecordingFactory(seen);
        await using var server = new BridgeServer(new BridgeOptions { Urls = "http://127.0.0.1:0", EventLogDirectory = _dir }, factory, camera: camera);
        await server.StartAsync();
        await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
        await client.HelloAsync("fake", 2, 2);
        await client.BeginAsync(0, 0);
        var obs = new Observation { Proprio = [0.1f], ObjectState = [1f] };
        for (var t = 0; t < 3; t++) Assert.False((await client.StepAsync(t, obs, HumanDecision.None)).Stop);
        Assert.Equal(3, seen.Count);
        Assert.All(seen, f => Assert.Equal((32, 24), (f!.Width, f.Height)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Bridge_FrameOnTheWire_ReachesEncoderExactly(bool png)
    {
        var seen = new List<Frame?>();
        await using var server = new BridgeServer(new BridgeOptions { Urls = "http://127.0.0.1:0", EventLogDirectory = _dir }, new FrameRecordingFactory(seen));
        await server.StartAsync();
        await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
        client.PngFrames = png;
        await client.HelloAsync("fake", 2, 2);
        await client.BeginAsync(0, 0);
        var rgb = new byte[20 * 10 * 3];
        new Random(5).NextBytes(rgb);
        var obs = new Observation { Proprio = [0.1f], ObjectState = [1f], Frame = new Frame(20, 10, rgb) };
        Assert.False((await client.StepAsync(0, obs, HumanDecision.None)).Stop);
        var f = Assert.Single(seen);
        Assert.Equal((20, 10), (f!.Width, f.Height));
        Assert.Equal(rgb, f.Rgb);
    }

    /// <summary>No agent; an encoder-free loop whose policy records the frames it would see through the observation.</summary>
    private sealed class FrameRecordingFactory(List<Frame?> seen) : IBridgeSessionFactory
    {
        public SessionComponents Create(SessionRequest request) => new()
        {
            Policy = new ZeroPolicy(2, 2),
            Agent = new AgentComponents(new FrameSpy(seen), new PositionCritic(), new Rift.ValueCritic.RiskTrigger(), new Loop.FakeMemory(null), new Loop.FakeRecoveryPolicy(2, 3, [0f, 0f])),
            Loop = new ArbitrationOptions { DecisionDeadlineMs = 0 },
        };
    }

    private sealed class FrameSpy(List<Frame?> seen) : Rift.ValueCritic.IFrameEncoder
    {
        public int Dimension => 3;

        public void Encode(Observation observation, Span<float> z)
        {
            seen.Add(observation.Frame);
            z.Clear();
            z[0] = 0.5f;
        }
    }
}
