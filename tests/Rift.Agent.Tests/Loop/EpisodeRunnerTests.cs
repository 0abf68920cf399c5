using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Learning;
using Rift.Memory;
using Rift.ValueCritic;

namespace Rift.Agent.Tests.Loop;

/// <summary>Critic whose value is the first embedding component (the fake world's progress x).</summary>
internal sealed class ProgressCritic : IValueCritic
{
    public int EmbeddingSize => 3;
    public int ActionSize => 2;
    public float Evaluate(ReadOnlySpan<float> z, ReadOnlySpan<float> action) => z[0];
}

public class EpisodeRunnerTests
{
    private static (EpisodeRunner Runner, FakeEnvironment Env, FakeMemory Memory, ScriptedSupervisor Supervisor, MemoryEventSink Sink) Build(
        int maxSteps = 60, int nanAtStep = -1, bool agent = true, float[]? policyAction = null)
    {
        var env = new FakeEnvironment(maxSteps, nanAtStep);
        var memory = new FakeMemory(new RecoveryTarget(3, [0.6f, 0.4f, 0.5f], 0.8f, 0.9f, RecoverySource.Agent, 0, 0));
        var supervisor = new ScriptedSupervisor();
        var sink = new MemoryEventSink();
        var components = agent
            ? new AgentComponents(new FakeEncoder(3), new ProgressCritic(), new RiskTrigger(), memory, new FakeRecoveryPolicy(2, 3, [1f, 0f]))
            : null;
        var loop = new ArbitrationLoop(new ArbitrationOptions { DecisionDeadlineMs = 0 }, "fake",
            new FakePolicy(2, policyAction ?? [0f, 0f]), supervisor, components, sink);
        return (new EpisodeRunner(env, loop), env, memory, supervisor, sink);
    }

    [Fact]
    public void Run_StallingPolicy_SyntheticEStopsLabelledAndRecoveriesInserted()
    {
        var (runner, _, memory, _, sink) = Build();
        var result = runner.Run(episode: 4, seed: 11);
        var tr = result.Record.Transitions;

        Assert.True(result.SyntheticEStops >= 1);
        Assert.True(result.RecoveriesSucceeded >= 1);
        Assert.Equal(result.SyntheticEStops, result.Record.InterventionCount);
        Assert.NotEmpty(memory.Inserted);
        Assert.Equal(7, tr.FindIndex(t => t.Intervention)); // plateau of x = 0.1 over the first full window
        for (var i = 0; i < tr.Count; i++)
        {
            if (!tr[i].Intervention) continue;
            Assert.Equal(InterventionKind.SyntheticEStop, tr[i].Kind);
            Assert.True(tr[i].Truncated);
            Assert.Equal(Controller.Policy, tr[i].Controller);
            Assert.Equal(Controller.Agent, tr[i + 1].Controller);
        }
        Assert.Equal(tr.Count(t => t.Controller == Controller.Agent), result.Record.AgentSteps);
        Assert.Equal(0, result.Record.HumanSteps);
        Assert.Equal(tr.Count(t => t.Intervention), result.SyntheticEStops);

        var summary = EventSummary.From(sink.Events);
        Assert.Equal(1, summary.Episodes);
        Assert.Equal(tr.Count, summary.Steps);
        Assert.Equal(result.SyntheticEStops, summary.SyntheticEStops);
        Assert.Equal(result.RecoveriesSucceeded, summary.RecoveriesSucceeded);
        Assert.Equal((double)result.Record.AgentSteps / tr.Count, summary.AgentTakeoverRate, 12);
        Assert.Equal(0, summary.HumanIrStep);
    }

    [Fact]
    public void Run_ProgressingPolicy_ReachesSuccessWithoutInterventions()
    {
        var (runner, _, _, _, sink) = Build(policyAction: [1f, 0f]);
        var result = runner.Run(0, 0);
        Assert.True(result.Record.Success);
        Assert.Equal("success", result.EndReason);
        Assert.Equal(0, result.Record.InterventionCount);
        Assert.True(result.Record.Transitions[^1].Terminated);
        Assert.Equal(true, sink.Events.Single(e => e.Type == LoopEventType.EpisodeEnded).Success);
    }

    [Fact]
    public void Run_HumanEStop_LabelsPreviousTransitionAndEnds()
    {
        var (runner, env, _, supervisor, _) = Build();
        supervisor.Decide_ = c => c.Step == 5 ? new HumanDecision(HumanDecisionKind.EStop) : HumanDecision.None;
        var result = runner.Run(0, 0);
        var tr = result.Record.Transitions;
        Assert.Equal(5, tr.Count);
        Assert.Equal(5, env.Steps);
        Assert.True(tr[4].Intervention);
        Assert.Equal(InterventionKind.HumanEStop, tr[4].Kind);
        Assert.True(tr[4].Truncated);
        Assert.Equal("human_estop", result.EndReason);
        Assert.Equal(1, result.HumanEStops);
        Assert.Equal(1, result.Record.InterventionCount);
    }

    [Fact]
    public void Run_HumanTakeover_LabelsPreviousAndRecordsHumanTransitions()
    {
        var (runner, _, _, supervisor, _) = Build(agent: false);
        supervisor.Decide_ = c => c.Step switch
        {
            3 => new HumanDecision(HumanDecisionKind.TakeOver, [1f, 0f]),
            4 or 5 => new HumanDecision(HumanDecisionKind.None, [1f, 0f]),
            6 => new HumanDecision(HumanDecisionKind.HandBack),
            _ => HumanDecision.None,
        };
        var result = runner.Run(0, 0);
        var tr = result.Record.Transitions;
        Assert.True(tr[2].Intervention);
        Assert.Equal(InterventionKind.HumanTakeover, tr[2].Kind);
        Assert.False(tr[2].Truncated);
        Assert.Equal([Controller.Human, Controller.Human, Controller.Human, Controller.Policy], tr.Skip(3).Take(4).Select(t => t.Controller));
        Assert.Equal(3, result.Record.HumanSteps);
        Assert.Equal(1, result.HumanTakeovers);
        Assert.Equal(0.25f, supervisor.Seen[6].Info.Progress, 5); // privileged progress reaches the supervisor: 0.1 + 3·0.05
    }

    [Fact]
    public void Run_EnvironmentReturnsNaN_NeverRecordedAndStops()
    {
        var (runner, _, _, _, sink) = Build(nanAtStep: 4);
        var result = runner.Run(0, 0);
        var tr = result.Record.Transitions;
        Assert.Equal(3, tr.Count); // the transition into the NaN observation is dropped
        Assert.True(tr[^1].Truncated);
        Assert.All(tr, t => Assert.True(t.Input.Concat(t.NextInput).Concat(t.Action).All(float.IsFinite)));
        Assert.Equal("stopped", result.EndReason);
        Assert.Single(sink.Events, e => e.Type == LoopEventType.ObservationRejected);
    }

    [Fact]
    public void Run_Cancelled_EndsEpisodeAsCancelled()
    {
        var (runner, _, _, _, sink) = Build();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var result = runner.Run(0, 0, cts.Token);
        Assert.Equal("cancelled", result.EndReason);
        Assert.Empty(result.Record.Transitions);
        Assert.Equal("cancelled", sink.Events[^1].Reason);
    }

    [Fact]
    public void Run_TimeLimit_LastTransitionTruncated()
    {
        var (runner, _, _, _, _) = Build(maxSteps: 5, agent: false);
        var result = runner.Run(0, 0);
        Assert.Equal(5, result.Record.Steps);
        Assert.True(result.Record.Transitions[^1].Truncated);
        Assert.All(result.Record.Transitions.Take(4), t => Assert.False(t.Truncated));
        Assert.Equal("time_limit", result.EndReason);
    }
}
