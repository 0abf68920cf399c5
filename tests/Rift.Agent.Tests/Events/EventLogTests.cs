using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Agent.Tests.Cli;
using Rift.Agent.Tests.Loop;
using Rift.Learning;

namespace Rift.Agent.Tests.Events;

public sealed class EventLogTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rift-events-" + Guid.NewGuid().ToString("N"));

    public EventLogTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Scripted run covering trigger, recovery, hand-back, takeover and e-stop, logged to memory and to a file.</summary>
    private static void ScriptedRun(IEventSink file, out IReadOnlyList<LoopEvent> inMemory)
    {
        var h = new Harness(extraSink: file);
        h.Q = t => Harness.StallThenValue(t, t => t < 21 ? 0.3f + 0.1f * (t - 17) : 0.6f);
        h.Supervisor.Decide_ = c => c.Step switch
        {
            30 => new HumanDecision(HumanDecisionKind.TakeOver, [0.2f, -0.2f]),
            33 => new HumanDecision(HumanDecisionKind.HandBack),
            40 => new HumanDecision(HumanDecisionKind.EStop),
            _ => new HumanDecision(HumanDecisionKind.None, [0.2f, -0.2f]),
        };
        h.Loop.BeginEpisode(0, 1);
        h.Run(41);
        h.Loop.EndEpisode(false, "human_estop");
        inMemory = h.Sink.Events;
    }

    [Fact]
    public void Read_AfterScriptedRun_ReproducesInMemoryEventSequence()
    {
        var path = Path.Combine(_dir, "events.jsonl");
        IReadOnlyList<LoopEvent> expected;
        using (var log = new EventLogWriter(path, new EventLogOptions { Fsync = EventLogFsync.Always }))
            ScriptedRun(log, out expected);
        var replayed = EventLogReader.Read(path).ToList();
        Assert.Equal(expected.Count, replayed.Count);
        Assert.Equal(expected.Select(e => e.ToJson()), replayed.Select(e => e.ToJson()));
        Assert.Contains(replayed, e => e.Type == LoopEventType.SyntheticEStop && e.Window!.Length == 8);
        Assert.Contains(replayed, e => e.Type == LoopEventType.HumanEStop);
    }

    [Fact]
    public void Append_StepsDisabled_WritesOnlyNonStepEvents()
    {
        var path = Path.Combine(_dir, "nosteps.jsonl");
        IReadOnlyList<LoopEvent> expected;
        using (var log = new EventLogWriter(path, new EventLogOptions { LogSteps = false, Fsync = EventLogFsync.Never }))
            ScriptedRun(log, out expected);
        var replayed = EventLogReader.Read(path).Select(e => e.ToJson()).ToList();
        Assert.Equal(expected.Where(e => e.Type != LoopEventType.Step).Select(e => e.ToJson()), replayed);
    }

    [Fact]
    public void Flush_WhileOpen_EverythingReadable()
    {
        var path = Path.Combine(_dir, "open.jsonl");
        using var log = new EventLogWriter(path, new EventLogOptions { Fsync = EventLogFsync.Interval, FsyncIntervalMs = 60_000 });
        for (var i = 0; i < 1000; i++) log.Append(new LoopEvent { Seq = i, Type = LoopEventType.Step, Step = i });
        log.Flush();
        Assert.Equal(1000, EventLogReader.Read(path).Count());
        Assert.Equal(1000, log.Appended);
    }

    [Fact]
    public void Read_TornLastLine_Skipped()
    {
        var path = Path.Combine(_dir, "torn.jsonl");
        var good = new LoopEvent { Seq = 0, Type = LoopEventType.HumanEStop, Kind = InterventionKind.HumanEStop }.ToJson();
        File.WriteAllText(path, good + "\n" + good[..10]);
        Assert.Single(EventLogReader.Read(path));
    }

    [Fact]
    public void Read_CorruptMiddleLine_ThrowsNamingLine()
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        var good = new LoopEvent { Seq = 0 }.ToJson();
        File.WriteAllText(path, good + "\n{not json\n" + good + "\n");
        var e = Assert.Throws<InvalidDataException>(() => EventLogReader.Read(path).ToList());
        Assert.Contains("bad.jsonl:2", e.Message);
    }

    [Fact]
    public void ToJson_UsesSnakeCaseNamesAndEnumValues()
    {
        var json = new LoopEvent { Type = LoopEventType.SyntheticEStop, Kind = InterventionKind.SyntheticEStop, Mode = ControlMode.AwaitingHuman, GoalId = 5 }.ToJson();
        Assert.Contains("\"type\":\"synthetic_e_stop\"", json);
        Assert.Contains("\"kind\":\"synthetic_e_stop\"", json);
        Assert.Contains("\"mode\":\"awaiting_human\"", json);
        Assert.Contains("\"goal_id\":5", json);
        Assert.DoesNotContain("window", json); // nulls omitted
    }

    [Fact]
    public async Task ArbitrationService_HostStopped_EndsEpisodeAndFlushesLog()
    {
        var path = Path.Combine(_dir, "service.jsonl");
        var memory = new MemoryEventSink();
        var log = new EventLogWriter(path, new EventLogOptions { Fsync = EventLogFsync.Never });
        try
        {
            var env = new FakeEnvironment(maxSteps: 10_000_000);
            var supervisor = new ScriptedSupervisor();
            var loop = new ArbitrationLoop(new ArbitrationOptions { DecisionDeadlineMs = 0 }, "fake", new FakePolicy(2, [0f, 0f]), supervisor, null, new FanOutEventSink(memory, log));
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Services.AddSingleton(log);
            builder.Services.AddSingleton(new ArbitrationServiceOptions());
            builder.Services.AddSingleton(new EpisodeRunner(env, loop));
            builder.Services.AddHostedService<ArbitrationService>();
            using var host = builder.Build();
            await host.StartAsync();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (memory.Events.Count < 200 && DateTime.UtcNow < deadline) await Task.Delay(5);
            Assert.True(memory.Events.Count >= 200, "the service did not run");

            host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication(); // what Ctrl+C does
            await host.WaitForShutdownAsync().WaitAsync(TimeSpan.FromSeconds(20));

            var events = memory.Events;
            Assert.Equal(LoopEventType.EpisodeEnded, events[^1].Type);
            Assert.Equal("cancelled", events[^1].Reason);
            var onDisk = EventLogReader.Read(path).Select(e => e.ToJson()).ToList(); // flushed before StopAsync returned
            Assert.Equal(events.Select(e => e.ToJson()), onDisk);
        }
        finally
        {
            log.Dispose();
        }
    }
}

[Collection("Console")]
public sealed class EventsCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "rift-events-cmd-" + Guid.NewGuid().ToString("N"));

    public EventsCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Summarize_Log_PrintsTableAndWritesMetrics()
    {
        var path = Path.Combine(_dir, "events.jsonl");
        using (var log = new EventLogWriter(path))
        {
            var h = new Harness(extraSink: log);
            h.Q = t => Harness.StallThenValue(t, t => 0.3f + 0.1f * (t - 17) - (t > 19 ? 0.09f * (t - 19) : 0f)); // 0.4, 0.5, then +0.01 per step
            h.Supervisor.Decide_ = c => c.Step switch
            {
                25 => new HumanDecision(HumanDecisionKind.TakeOver, [0.2f, 0.2f]),
                26 or 27 or 28 => new HumanDecision(HumanDecisionKind.None, [0.2f, 0.2f]),
                29 => new HumanDecision(HumanDecisionKind.HandBack),
                _ => HumanDecision.None,
            };
            h.Loop.BeginEpisode(0, 0);
            h.Run(40);
            h.Loop.EndEpisode(false, "time_limit");
            h.Loop.BeginEpisode(1, 1);
            h.Run(10);
            h.Loop.EndEpisode(false, "time_limit");
        }
        var json = Path.Combine(_dir, "summary.json");
        var (code, output, err) = await ProgramTests.Run("events", "summarize", path, "--json", json);
        Assert.True(code == 0, err);
        Assert.Contains("events/synthetic_estops", output);
        var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("metrics");
        Assert.Equal(2, metrics.GetProperty("events/episodes").GetDouble());
        Assert.Equal(50, metrics.GetProperty("events/steps").GetDouble());
        Assert.Equal(1, metrics.GetProperty("events/synthetic_estops").GetDouble());
        Assert.Equal(1, metrics.GetProperty("events/recoveries_succeeded").GetDouble());
        Assert.Equal(1, metrics.GetProperty("events/human_interventions").GetDouble());
        Assert.Equal(4.0 / 50, metrics.GetProperty("events/human_ir_step").GetDouble(), 12);
        Assert.Equal(0.5, metrics.GetProperty("events/human_ir_episode").GetDouble(), 12);
        Assert.Equal(1.0 / 50, metrics.GetProperty("events/agent_takeover_rate").GetDouble(), 12); // step 18 under the recovery policy; q = 0.5 at 19 hands back
    }

    [Fact]
    public async Task Summarize_MissingFile_FailsWithMessage()
    {
        var (code, _, err) = await ProgramTests.Run("events", "summarize", Path.Combine(_dir, "nope.jsonl"));
        Assert.Equal(1, code);
        Assert.Contains("not found", err);
    }
}
