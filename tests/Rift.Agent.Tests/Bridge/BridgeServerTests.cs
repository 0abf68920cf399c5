using System.Net;
using System.Net.WebSockets;
using Rift.Agent.Bridge;
using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Agent.Tests.Loop;
using Rift.Learning;

namespace Rift.Agent.Tests.Bridge;

public sealed class BridgeServerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rift-bridge-").FullName;

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

    private BridgeServer Server(string urls = "http://127.0.0.1:0", string token = "", IBridgeSessionFactory? factory = null) =>
        new(new BridgeOptions { Urls = urls, Token = token, EventLogDirectory = _dir }, factory ?? new FakeWorldFactory());

    private static readonly SimRunSettings Settings = new("fake", Episodes: 4, Seed: 3, EvalEpisodes: 2);

    [Fact]
    public async Task SimClient_OverBridge_MatchesInProcessRun()
    {
        var reference = SimRobot.RunInProcess(new FakeEnvironment(), FakeWorldFactory.Supervisor(), FakeWorldFactory.Components(Settings.Seed), Settings).Metrics();

        await using var server = Server();
        var completed = new List<EpisodeResult>();
        server.EpisodeCompleted += (_, r) =>
        {
            lock (completed) completed.Add(r);
        };
        await server.StartAsync();
        await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
        var welcome = await client.HelloAsync("fake", 2, 2, seed: Settings.Seed);
        Assert.True(welcome.Agent);
        var bridged = (await SimRobot.RunBridgeAsync(client, new FakeEnvironment(), FakeWorldFactory.Supervisor(), Settings)).Metrics();

        // The run exercises every path: synthetic e-stops, recoveries, human takeovers.
        Assert.True(reference["online/synthetic_estops"] >= Settings.Episodes, $"synthetic e-stops {reference["online/synthetic_estops"]}");
        Assert.True(reference["online/recoveries_succeeded"] >= 1);
        Assert.True(reference["online/human_interventions"] >= 1);
        Assert.Equal(reference.Keys.Order(), bridged.Keys.Order());
        foreach (var (k, v) in reference) Assert.True(v == bridged[k], $"{k}: in process {v}, bridge {bridged[k]}");
        await server.StopAsync();
        Assert.Equal(Settings.Episodes, completed.Count);
        Assert.All(completed, r => Assert.True(r.Record.Steps > 0));
    }

    [Fact]
    public async Task Bridge_TransitionsAndLabels_EqualEpisodeRunner()
    {
        // The server records the same transitions as EpisodeRunner: same count, controllers, e flags and truncations.
        var components = FakeWorldFactory.Components(1);
        var sup = FakeWorldFactory.Supervisor();
        EpisodeResult local;
        using (var loop = new ArbitrationLoop(components.Loop, "fake", components.Policy, sup, components.Agent))
            local = new EpisodeRunner(new FakeEnvironment(), loop).Run(0, Settings.EpisodeSeed(0));

        await using var server = Server();
        EpisodeResult? remote = null;
        server.EpisodeCompleted += (_, r) => remote = r;
        await server.StartAsync();
        await using (var client = await BridgeClient.ConnectAsync(server.BaseUri))
        {
            await client.HelloAsync("fake", 2, 2, seed: 1);
            await SimRobot.RunBridgeAsync(client, new FakeEnvironment(), FakeWorldFactory.Supervisor(), Settings with { Episodes = 1, EvalEpisodes = 0 });
        }
        await server.StopAsync();
        Assert.NotNull(remote);
        Assert.Equal(local.EndReason, remote!.EndReason);
        Assert.Equal(local.Record.Steps, remote.Record.Steps);
        for (var i = 0; i < local.Record.Steps; i++)
        {
            var (a, b) = (local.Record.Transitions[i], remote.Record.Transitions[i]);
            Assert.Equal(a.Input, b.Input);
            Assert.Equal(a.Action, b.Action);
            Assert.Equal(a.NextInput, b.NextInput);
            Assert.Equal((a.Controller, a.Intervention, a.Kind, a.Terminated, a.Truncated, a.Reward), (b.Controller, b.Intervention, b.Kind, b.Terminated, b.Truncated, b.Reward));
        }
    }

    [Fact]
    public async Task Bridge_BatchOfMalformedMessages_AnsweredWithErrorsServerSurvives()
    {
        await using var server = Server();
        await server.StartAsync();
        await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
        string[] beforeHello =
        [
            "", "   ", "not json", "{", "}", "[]", "[1,2,3]", "null", "42", "\"obs\"", "{}", "{\"type\":null}", "{\"type\":42}",
            "{\"type\":\"launch_missiles\"}", "{\"type\":\"obs\",\"proprio\":[0.1,1]}", "{\"type\":\"begin\"}", "{\"type\":\"end\"}",
            "{\"type\":\"hello\"}", "{\"type\":\"hello\",\"task\":\"fake\",\"action_size\":0,\"policy_input_size\":2}",
            "{\"type\":\"hello\",\"task\":\"fake\",\"action_size\":2,\"policy_input_size\":-5}",
            "{\"type\":\"hello\",\"task\":\"fake\",\"action_size\":2,\"policy_input_size\":7}",
            "{\"type\":\"hello\",\"task\":\"fake\",\"action_size\":\"two\",\"policy_input_size\":2}",
            "{\"type\":\"hello\",\"protocol\":99,\"task\":\"fake\",\"action_size\":2,\"policy_input_size\":2}",
            "{\"type\":\"hello\",\"task\":\"fake\",\"action_size\":1e400,\"policy_input_size\":2}",
            new string('[', 5000) + new string(']', 5000),
            "{\"type\":\"hello\",\"task\":\"\\ud800\",\"action_size\":2,\"policy_input_size\":2}",
        ];
        foreach (var m in beforeHello)
        {
            var r = await client.SendRawAsync(m);
            Assert.True(r.Type == "error", $"'{Trunc(m)}' got {r.Type}");
            Assert.False(string.IsNullOrEmpty(r.Code));
        }
        var binary = await client.SendBinaryAsync([1, 2, 3]);
        Assert.Equal("binary_unsupported", binary.Code);

        await client.HelloAsync("fake", 2, 2, seed: 0);
        string[] inSession =
        [
            "{\"type\":\"hello\",\"task\":\"fake\",\"action_size\":2,\"policy_input_size\":2}",
            "{\"type\":\"obs\",\"proprio\":[0.1],\"object_state\":[1]}",
        ];
        foreach (var m in inSession) Assert.Equal("error", (await client.SendRawAsync(m)).Type);
        await client.BeginAsync(0, 0);
        string[] inEpisode =
        [
            "{\"type\":\"begin\"}",
            "{\"type\":\"obs\"}",
            "{\"type\":\"obs\",\"proprio\":[0.1,2,3],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5]}",
            "{\"type\":\"obs\",\"proprio\":[0.1],\"object_state\":[1],\"embedding\":[1]}",
            "{\"type\":\"obs\",\"proprio\":[NaN],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5]}",
            "{\"type\":\"obs\",\"proprio\":[\"x\"],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5]}",
            "{\"type\":\"obs\",\"step\":5,\"proprio\":[0.1],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5]}",
            "{\"type\":\"obs\",\"proprio\":[0.1],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5],\"human\":{\"kind\":\"dance\"}}",
            "{\"type\":\"obs\",\"proprio\":[0.1],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5],\"human\":{\"kind\":\"takeover\",\"action\":[1,2,3]}}",
            "{\"type\":\"obs\",\"proprio\":[0.1],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5],\"frame\":{\"width\":2,\"height\":2,\"data\":\"!!!\"}}",
            "{\"type\":\"obs\",\"proprio\":[0.1],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5],\"frame\":{\"width\":2,\"height\":2,\"data\":\"AAAA\"}}",
            "{\"type\":\"obs\",\"proprio\":[0.1],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5],\"frame\":{\"width\":-1,\"height\":2,\"data\":\"AAAA\"}}",
            "{\"type\":\"obs\",\"proprio\":[0.1],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5],\"frame\":{\"width\":1,\"height\":1,\"format\":\"png\",\"data\":\"AAAA\"}}",
            "{\"type\":\"obs\",\"proprio\":[0.1],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5],\"frame\":{\"width\":1,\"height\":1,\"format\":\"jpeg\",\"data\":\"AAAA\"}}",
        ];
        foreach (var m in inEpisode)
        {
            var r = await client.SendRawAsync(m);
            Assert.True(r.Type == "error", $"'{Trunc(m)}' got {r.Type}");
            if (m.Contains("\"obs\"")) Assert.True(r.Stop == true && r.Action is [0f, 0f], $"'{Trunc(m)}': an error to obs carries the safe stop action");
        }

        // A message larger than Bridge:MaxMessageBytes is dropped with an error.
        var huge = "{\"type\":\"obs\",\"proprio\":[" + string.Join(",", Enumerable.Repeat("0.1", 3_000_000)) + "]}";
        Assert.Equal("too_large", (await client.SendRawAsync(huge)).Code);

        // A value beyond float range parses as infinity: not malformed, but the loop rejects the observation (safe stop, logged).
        var inf = await client.SendRawAsync("{\"type\":\"obs\",\"proprio\":[1e39],\"object_state\":[1],\"embedding\":[0.1,0.9,0.5]}");
        Assert.True(inf.Type == "act" && inf.Stop == true);
        Assert.Contains(inf.Events!, e => e.Type == LoopEventType.ObservationRejected);
        await client.EndAsync(null, null, false, false, false);
        await client.BeginAsync(1, 1);

        // The session still works.
        var act = await client.StepAsync(0, new Observation { Proprio = [0.1f], ObjectState = [1f], Embedding = [0.1f, 0.9f, 0.5f] }, HumanDecision.None);
        Assert.Equal(2, act.Action!.Length);
        Assert.Equal(ControlMode.Policy, act.Mode);
        Assert.Equal("pong", (await client.PingAsync()).Type);

        // And so does the server, for a new robot.
        await using var other = await BridgeClient.ConnectAsync(server.BaseUri);
        Assert.Equal("welcome", (await other.HelloAsync("fake", 2, 2)).Type);
    }

    [Fact]
    public async Task Operator_EStopDuringRun_RobotStopsNextStepAndEventLogged()
    {
        await using var server = Server();
        await server.StartAsync();
        await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
        await client.HelloAsync("fake", 2, 2, robot: "arm");
        await client.BeginAsync(0, 0);
        var env = new FakeEnvironment();
        var (obs, _) = env.Reset(0);
        var pressedAt = -1;
        var stoppedAt = -1;
        for (var t = 0; t < 40; t++)
        {
            var d = await client.StepAsync(t, obs, HumanDecision.None);
            if (d.Stop == true)
            {
                stoppedAt = t;
                Assert.Equal(Controller.Human, d.Controller);
                Assert.Equal(InterventionKind.HumanEStop, d.Kind);
                Assert.Contains(d.Events!, e => e.Type == LoopEventType.HumanEStop);
                break;
            }
            if (t == 5)
            {
                server.Operator.EStop("test");
                pressedAt = t;
            }
            obs = env.Step(d.Action!).Observation;
        }
        Assert.Equal(pressedAt + 1, stoppedAt);
        var ended = await client.EndAsync(null, null, false, false, false);
        for (var i = 0; i < 100 && !client.EStopReceived; i++) await client.PingAsync(); // the push may trail the replies
        Assert.True(client.EStopReceived, "the e-stop is also pushed to the robot");
        Assert.Equal("human_estop", ended.Result!.EndReason);

        // Latched: the next episode stops at its first step until the operator releases.
        await client.BeginAsync(1, 1);
        Assert.True((await client.StepAsync(0, env.Reset(1).Observation, HumanDecision.None)).Stop);
        await client.EndAsync(null, null, false, false, false);
        server.Operator.Release();
        await client.BeginAsync(2, 2);
        Assert.False((await client.StepAsync(0, env.Reset(2).Observation, HumanDecision.None)).Stop);
        await client.EndAsync(null, null, false, false, false);
        await client.DisposeAsync();
        await server.StopAsync();

        var log = Directory.GetFiles(_dir, "events-arm-*.jsonl").Single();
        var events = EventLogReader.Read(log).ToList();
        var estop = Assert.Single(events, e => e.Type == LoopEventType.HumanEStop && e.Episode == 0);
        Assert.Equal(pressedAt + 1, estop.Step);
    }

    [Fact]
    public async Task Operator_EStopWhileLearnerBusy_StopsNextStepWithoutWaiting()
    {
        await using var server = Server();
        using var learnerBusy = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        server.EpisodeCompleted += (_, _) =>
        {
            learnerBusy.Set();
            release.Wait(TimeSpan.FromSeconds(20)); // a learner update that takes long
        };
        await server.StartAsync();
        await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
        await client.HelloAsync("fake", 2, 2);
        var obs = new Observation { Proprio = [0.1f], ObjectState = [1f], Embedding = [0.1f, 0.9f, 0.5f] };
        await client.BeginAsync(0, 0);
        await client.StepAsync(0, obs, HumanDecision.None);
        await client.EndAsync(obs, 0f, false, true, false);
        Assert.True(learnerBusy.Wait(TimeSpan.FromSeconds(10)));

        await client.BeginAsync(1, 1);
        Assert.False((await client.StepAsync(0, obs, HumanDecision.None)).Stop);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        server.Operator.EStop("test");
        var d = await client.StepAsync(1, obs, HumanDecision.None);
        Assert.True(d.Stop);
        Assert.Equal(InterventionKind.HumanEStop, d.Kind);
        Assert.True(sw.ElapsedMilliseconds < 2000, $"e-stop took {sw.ElapsedMilliseconds} ms with the learner busy");
        release.Set();
    }

    [Fact]
    public async Task Operator_EStopNotLatched_StopsRunningEpisodeOnly()
    {
        await using var server = new BridgeServer(new BridgeOptions { Urls = "http://127.0.0.1:0", EventLogDirectory = _dir, LatchEStop = false }, new FakeWorldFactory());
        await server.StartAsync();
        await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
        await client.HelloAsync("fake", 2, 2);
        var obs = new Observation { Proprio = [0.1f], ObjectState = [1f], Embedding = [0.1f, 0.9f, 0.5f] };
        await client.BeginAsync(0, 0);
        await client.StepAsync(0, obs, HumanDecision.None);
        server.Operator.EStop("test");
        Assert.False(server.Operator.EStopEngaged);
        Assert.True((await client.StepAsync(1, obs, HumanDecision.None)).Stop);
        await client.EndAsync(null, null, false, false, false);
        await client.BeginAsync(1, 1);
        Assert.False((await client.StepAsync(0, obs, HumanDecision.None)).Stop);
    }

    [Fact]
    public async Task Operator_Takeover_HumanControlsWithRobotSideActionThenHandsBack()
    {
        await using var server = Server();
        await server.StartAsync();
        await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
        await client.HelloAsync("fake", 2, 2);
        await client.BeginAsync(0, 0);
        var obs = new Observation { Proprio = [0.1f], ObjectState = [1f], Embedding = [0.1f, 0.9f, 0.5f] };
        Assert.Equal(Controller.Policy, (await client.StepAsync(0, obs, HumanDecision.None)).Controller);
        server.Operator.SetTakeover(true);
        var d1 = await client.StepAsync(1, obs, new HumanDecision(HumanDecisionKind.None, [0.25f, -0.5f]));
        Assert.Equal((Controller.Human, InterventionKind.HumanTakeover, ControlMode.Human), (d1.Controller, d1.Kind, d1.Mode));
        Assert.Equal([0.25f, -0.5f], d1.Action!);
        var d2 = await client.StepAsync(2, obs, HumanDecision.None);
        Assert.Equal([0f, 0f], d2.Action!); // no teleop command: hold still
        server.Operator.SetTakeover(false);
        var d3 = await client.StepAsync(3, obs, HumanDecision.None);
        Assert.Equal((Controller.Policy, ControlMode.Policy), (d3.Controller, d3.Mode));
        Assert.Contains(d3.Events!, e => e.Type == LoopEventType.HumanHandBack);
    }

    [Fact]
    public async Task Connect_NonLoopbackWithoutToken_Refused()
    {
        await using var server = Server("http://0.0.0.0:0", token: "s3cret-token");
        await server.StartAsync();
        var port = server.BaseUri.Port;

        var refused = await Assert.ThrowsAnyAsync<WebSocketException>(() => BridgeClient.ConnectAsync(new Uri($"http://127.0.0.1:{port}")));
        Assert.Contains("401", refused.Message);
        await Assert.ThrowsAnyAsync<WebSocketException>(() => BridgeClient.ConnectAsync(new Uri($"http://127.0.0.1:{port}"), "wrong-token"));

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://127.0.0.1:{port}/console")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://127.0.0.1:{port}/console/events")).StatusCode);
        var post = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/console/api/estop") { Headers = { { "X-Rift-Console", "1" } } };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(post)).StatusCode);
        Assert.False(server.Operator.EStopEngaged);

        await using var client = await BridgeClient.ConnectAsync(new Uri($"http://127.0.0.1:{port}"), "s3cret-token");
        Assert.Equal("welcome", (await client.HelloAsync("fake", 2, 2)).Type);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/console?token=s3cret-token")).StatusCode);
    }

    [Theory]
    [InlineData("http://0.0.0.0:8765")]
    [InlineData("http://*:8765")]
    [InlineData("http://192.168.1.20:8765")]
    [InlineData("http://127.0.0.1:8765;http://robot-lab.local:8765")]
    public void Options_NonLoopbackWithoutToken_Invalid(string urls)
    {
        var o = new BridgeOptions { Urls = urls };
        var errors = o.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(o)).ToList();
        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(BridgeOptions.Token)));
        Assert.Throws<ArgumentException>(() => new BridgeServer(o, new FakeWorldFactory()));
        o.Token = "t";
        Assert.Empty(o.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(o)));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8765")]
    [InlineData("http://localhost:8765")]
    [InlineData("http://[::1]:8765")]
    public void Options_Loopback_ValidWithoutToken(string urls)
    {
        var o = new BridgeOptions { Urls = urls };
        Assert.Empty(o.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(o)));
    }

    [Fact]
    public async Task Console_CommandsWithoutHeaderOrCrossOrigin_Refused()
    {
        await using var server = Server();
        await server.StartAsync();
        var b = server.BaseUri;
        using var http = new HttpClient();
        var page = await http.GetStringAsync(new Uri(b, "/console"));
        Assert.Contains("id=\"estop\"", page);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.PostAsync(new Uri(b, "/console/api/estop"), null)).StatusCode);
        var cross = new HttpRequestMessage(HttpMethod.Post, new Uri(b, "/console/api/estop")) { Headers = { { "X-Rift-Console", "1" }, { "Origin", "http://evil.example" } } };
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(cross)).StatusCode);
        var rebound = new HttpRequestMessage(HttpMethod.Get, new Uri(b, "/console")) { Headers = { Host = "evil.example" } };
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(rebound)).StatusCode);
        Assert.False(server.Operator.EStopEngaged);
        var ok = new HttpRequestMessage(HttpMethod.Post, new Uri(b, "/console/api/estop")) { Headers = { { "X-Rift-Console", "1" } } };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(ok)).StatusCode);
        Assert.True(server.Operator.EStopEngaged);
    }

    private static string Trunc(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
