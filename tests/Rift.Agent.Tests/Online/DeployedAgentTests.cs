using Rift.Agent.Bridge;
using Rift.Agent.Online;
using Rift.Learning;
using Rift.Sim;
using Rift.Sim.Supervisors;

namespace Rift.Agent.Tests.Online;

/// <summary>One tiny trained push run (rift method, 4 episodes, tiny networks), shared by the deployment tests.</summary>
public sealed class TinyRunFixture : IDisposable
{
    public TinyRunFixture()
    {
        Root = Directory.CreateTempSubdirectory("rift-deploy-tests-").FullName;
        RunDirectory = Path.Combine(Root, "push__rift__0__test");
        Setup = OnlineSetup.Build("push", 0, Tiny().Online, Tiny().Sim);
        Trainer = OnlineTrainer.Create(new OnlineRunSpec("push", OnlineMethod.Rift, 0, 4), Tiny(), Setup, RunDirectory);
        Trainer.Run();
    }

    public string Root { get; }
    public string RunDirectory { get; }
    public OnlineSetup Setup { get; }

    /// <summary>The trainer after its run (its networks are the run's last checkpoint).</summary>
    public OnlineTrainer Trainer { get; }

    public static OnlineSettings Tiny() => TinyOnline.Settings(maxEpisodeSteps: 30, evalEvery: 4, triggerWindow: 3);

    /// <summary>A copy of the run folder to damage.</summary>
    public string Copy(string name)
    {
        var to = Path.Combine(Root, name);
        foreach (var f in Directory.EnumerateFiles(RunDirectory, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(RunDirectory, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (Path.GetFileName(f) != "LOCK") File.Copy(f, target);
        }
        return to;
    }

    public void Dispose()
    {
        Trainer.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}

/// <remarks>In the "Console" collection with ServeRunCommandTests: both deploy agents, and the leak check below counts this process's snapshot folders.</remarks>
[Collection("Console")]
public sealed class DeployedAgentTests(TinyRunFixture run) : IClassFixture<TinyRunFixture>
{
    [Fact]
    public void Load_TrainedRun_ActsLikeTrainersPolicyAndMemory()
    {
        // The setup is rebuilt from the run's config (as serving does), not taken from the trainer.
        using var agent = DeployedAgent.Load(run.RunDirectory);

        Assert.Equal("push", agent.Task);
        Assert.Equal("ep00004", agent.Checkpoint);
        Assert.Equal(4, agent.EpisodesTrained);
        Assert.True(agent.HasAgent);
        Assert.Equal(ObservationLayout.PolicyInputSize, agent.InputSize);
        Assert.Equal(ObservationLayout.ActionSize, agent.ActionSize);
        Assert.True(agent.LoopOptions.DeterministicPolicy);
        Assert.Equal(run.Trainer.Memory!.Count, agent.Memory!.Count);
        Assert.Equal(0, agent.MemoryItemsAfterCheckpoint);

        var rng = new Random(5);
        var expected = new float[agent.ActionSize];
        var actual = new float[agent.ActionSize];
        var inputs = run.Setup.Demos.SelectMany(d => d.Inputs).Take(40)
            .Concat(Enumerable.Range(0, 20).Select(_ => Enumerable.Range(0, agent.InputSize).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()));
        foreach (var x in inputs)
        {
            run.Trainer.Learner.Act(x, expected, deterministic: true, new Random(1));
            agent.Policy.Act(x, actual, deterministic: false, new Random(2)); // always the deterministic action
            Assert.Equal(expected, actual);
            var z = run.Setup.Encoder.Encode(x);
            Assert.Equal(run.Trainer.Memory.Query(z, "push")?.Id, agent.Memory.Query(z, "push")?.Id);
        }
    }

    [Fact]
    public async Task SimClient_OverBridgeWithLoadedAgent_MatchesInProcessRun()
    {
        var before = Listing(run.RunDirectory);
        using var agent = DeployedAgent.Load(run.RunDirectory, "push", run.Setup);
        var logs = Path.Combine(run.Root, "serve-logs");
        var settings = new SimRunSettings("push", Episodes: 4, Seed: 2, EvalEpisodes: 1);
        var sim = TinyRunFixture.Tiny().Sim;
        var supervisor = TinyRunFixture.Tiny().Supervisor;

        SimRunResult bridged;
        await using (var server = new BridgeServer(new BridgeOptions { Urls = "http://127.0.0.1:0", EventLogDirectory = logs }, new DeployedSessionFactory(agent)))
        {
            await server.StartAsync();
            using var env = SimTasks.Create("push", sim);
            await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
            var welcome = await client.HelloAsync("push", env.Spec.ActionSize, env.Spec.PolicyInputSize, "sim-client", settings.Seed);
            Assert.True(welcome.Agent);
            bridged = await SimRobot.RunBridgeAsync(client, env, SimulatedSupervisor.For(env, supervisor), settings);
        }
        using var env2 = SimTasks.Create("push", sim);
        var inProcess = SimRobot.RunInProcess(env2, SimulatedSupervisor.For(env2, supervisor), agent.Session(settings.Seed), settings);

        Assert.Equal(inProcess.Episodes, bridged.Episodes); // steps, success, end reason, synthetic e-stops, recoveries, human steps
        Assert.Equal(inProcess.EvalSuccesses, bridged.EvalSuccesses);
        Assert.Equal(inProcess.Metrics(), bridged.Metrics());
        Assert.True(bridged.Episodes.Sum(e => e.SyntheticEStops) > 0, "the loaded trigger fires in these episodes (the agent path is exercised)");
        Assert.True(bridged.Episodes.Sum(e => e.HumanSteps) > 0, "the simulated human steps in");
        // The agent ran: every policy step of the served episodes carries the critic's value.
        var steps = Rift.Agent.Events.EventLogReader.Read(Directory.GetFiles(logs, "events-*.jsonl").Single())
            .Where(e => e.Type == Rift.Agent.Events.LoopEventType.Step && e.Controller == Controller.Policy && e.Episode < 1_000_000).ToList();
        Assert.NotEmpty(steps);
        Assert.All(steps, e => Assert.NotNull(e.Value));
        // Serving never writes to the run folder (read-only memory, private snapshot).
        Assert.Equal(before, Listing(run.RunDirectory));
    }

    [Fact]
    public async Task TwoRobots_ConcurrentSessionsOfOneAgent_EachMatchInProcessRun()
    {
        using var agent = DeployedAgent.Load(run.RunDirectory, "push", run.Setup);
        var sim = TinyRunFixture.Tiny().Sim;
        var supervisor = TinyRunFixture.Tiny().Supervisor;
        SimRunSettings Settings(int seed) => new("push", Episodes: 3, Seed: seed);
        await using var server = new BridgeServer(new BridgeOptions { Urls = "http://127.0.0.1:0", EventLogDirectory = Path.Combine(run.Root, "two") }, new DeployedSessionFactory(agent));
        await server.StartAsync();

        async Task<SimRunResult> Robot(int seed)
        {
            await Task.Yield();
            using var env = SimTasks.Create("push", sim);
            await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
            await client.HelloAsync("push", env.Spec.ActionSize, env.Spec.PolicyInputSize, $"arm{seed}", seed);
            return await SimRobot.RunBridgeAsync(client, env, SimulatedSupervisor.For(env, supervisor), Settings(seed));
        }

        var both = await Task.WhenAll(Task.Run(() => Robot(7)), Task.Run(() => Robot(8)));
        for (var i = 0; i < 2; i++)
        {
            using var env = SimTasks.Create("push", sim);
            var alone = SimRobot.RunInProcess(env, SimulatedSupervisor.For(env, supervisor), agent.Session(7 + i), Settings(7 + i));
            Assert.Equal(alone.Episodes, both[i].Episodes);
        }
    }

    [Fact]
    public async Task Hello_OtherTaskThanServedRun_RefusedNamingTheRun()
    {
        using var agent = DeployedAgent.Load(run.RunDirectory, setup: run.Setup);
        await using var server = new BridgeServer(new BridgeOptions { Urls = "http://127.0.0.1:0", EventLogDirectory = Path.Combine(run.Root, "refused") }, new DeployedSessionFactory(agent));
        await server.StartAsync();
        await using var client = await BridgeClient.ConnectAsync(server.BaseUri);
        var e = await Assert.ThrowsAsync<BridgeErrorException>(() => client.HelloAsync("pick-place", ObservationLayout.ActionSize, ObservationLayout.PolicyInputSize));
        Assert.Equal("unknown_task", e.Code);
        Assert.Contains("push", e.Message);
        Assert.Contains("pick-place", e.Message);
        var sizes = await Assert.ThrowsAsync<BridgeErrorException>(() => client.HelloAsync("push", ObservationLayout.ActionSize, ObservationLayout.PolicyInputSize + 1));
        Assert.Equal("bad_hello", sizes.Code);
        Assert.Equal("welcome", (await client.HelloAsync("push", ObservationLayout.ActionSize, ObservationLayout.PolicyInputSize)).Type);
    }

    [Fact]
    public void Load_RunWithoutAgent_ServesPolicyOnly()
    {
        var dir = Path.Combine(run.Root, "hil");
        using (var t = OnlineTrainer.Create(new OnlineRunSpec("push", OnlineMethod.Hil, 0, 2), TinyRunFixture.Tiny(), run.Setup, dir))
        {
            t.Run();
            using var agent = DeployedAgent.Load(dir, "push", run.Setup);
            Assert.False(agent.HasAgent);
            Assert.Null(agent.Memory);
            var session = agent.Session(1);
            Assert.Null(session.Agent);
            var x = run.Setup.Demos[0].Inputs[3];
            float[] expected = new float[agent.ActionSize], actual = new float[agent.ActionSize];
            t.Learner.Act(x, expected, true, new Random(1));
            session.Policy.Act(x, actual, false, new Random(2));
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Load_RunOfAnotherTask_Refused()
    {
        var e = Assert.Throws<ArgumentException>(() => DeployedAgent.Load(run.RunDirectory, "pick-place", run.Setup));
        Assert.Contains("trained task 'push', not 'pick-place'", e.Message);
    }

    [Fact]
    public void Load_MissingOrCorruptCheckpoint_RefusedWithClearMessage()
    {
        var noLatest = run.Copy("no-latest");
        File.Delete(Path.Combine(noLatest, "checkpoints", "latest"));
        Assert.Contains("has no checkpoint", Assert.Throws<InvalidDataException>(() => DeployedAgent.Load(noLatest, setup: run.Setup)).Message);

        var dangling = run.Copy("dangling");
        File.WriteAllText(Path.Combine(dangling, "checkpoints", "latest"), "ep99999");
        Assert.Contains("not a checkpoint folder", Assert.Throws<InvalidDataException>(() => DeployedAgent.Load(dangling, setup: run.Setup)).Message);

        var torn = run.Copy("torn");
        var critic = Path.Combine(torn, "checkpoints", "ep00004", "critic.safetensors");
        File.WriteAllBytes(critic, File.ReadAllBytes(critic)[..40]);
        var e = Assert.Throws<InvalidDataException>(() => DeployedAgent.Load(torn, setup: run.Setup));
        Assert.Contains("checkpoint ep00004 cannot be loaded", e.Message);

        var badState = run.Copy("bad-state");
        File.WriteAllText(Path.Combine(badState, "checkpoints", "ep00004", "state.json"), "{ not json");
        Assert.Contains("checkpoint ep00004 cannot be loaded", Assert.Throws<InvalidDataException>(() => DeployedAgent.Load(badState, setup: run.Setup)).Message);

        var noMemory = run.Copy("no-memory");
        Directory.Delete(Path.Combine(noMemory, "memory"), recursive: true);
        Assert.Contains("recovery memory holds 0 items", Assert.Throws<InvalidDataException>(() => DeployedAgent.Load(noMemory, setup: run.Setup)).Message);

        Assert.Contains("is not a run folder", Assert.Throws<InvalidDataException>(() => DeployedAgent.Load(run.Root, setup: run.Setup)).Message);
        Assert.Contains("does not exist", Assert.Throws<InvalidDataException>(() => DeployedAgent.Load(Path.Combine(run.Root, "nope"))).Message);
        // Nothing is left behind by refused loads.
        Assert.Empty(Directory.GetDirectories(Path.GetTempPath(), $"rift-deploy-{Environment.ProcessId}-*"));
    }

    private static string[] Listing(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(dir, f)} {new FileInfo(f).Length} {File.GetLastWriteTimeUtc(f):O}").ToArray();
}
