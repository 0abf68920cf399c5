using System.Diagnostics;
using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Learning;
using Rift.Memory;
using Rift.ValueCritic;

namespace Rift.Agent.Tests.Loop;

public class ArbitrationLoopTests
{
    private static Harness Started(ArbitrationOptions? o = null, bool agent = true)
    {
        var h = new Harness(o, agent);
        h.Loop.BeginEpisode(1, seed: 5);
        return h;
    }

    [Fact]
    public void Step_PlateauThenValueRecovers_SyntheticEStopRecoveryHandBack()
    {
        var h = Started();
        float[] recovery = [0.32f, 0.4f, 0.5f];
        h.Q = t => Harness.StallThenValue(t, t => t - 18 < recovery.Length ? recovery[t - 18] : 0.6f);
        h.Run(17);
        Assert.All(h.Decisions, d => Assert.Equal(Controller.Policy, d.Controller));

        var fire = h.Step(); // step 17: the plateau rule fires
        Assert.Equal(TriggerReason.Plateau, fire.Trigger);
        Assert.True(fire.Intervention);
        Assert.Equal(InterventionKind.SyntheticEStop, fire.Kind);
        Assert.True(fire.Truncate);
        Assert.Equal(Controller.Policy, fire.Controller);       // RIFT Algorithm 1: the policy's action is applied, then the e-stop
        Assert.Equal(Harness.PolicyAction, fire.Action);
        Assert.Equal(ControlMode.Recovery, fire.NextMode);
        Assert.Equal(7ul, fire.Goal!.Id);

        var r1 = h.Step();
        var r2 = h.Step();
        foreach (var r in new[] { r1, r2 })
        {
            Assert.Equal(ControlMode.Recovery, r.Mode);
            Assert.Equal(Controller.Agent, r.Controller);
            Assert.Equal(Harness.RecoveryAction, r.Action);
            Assert.False(r.Intervention);
        }
        Assert.Equal(Harness.GoalEmbedding, h.Recovery.Goals[0]);

        var back = h.Step(); // step 20: q = 0.5 ≥ HandBackValue and 0.2 above the trigger value
        Assert.Equal(ControlMode.Policy, back.Mode);
        Assert.Equal(Controller.Policy, back.Controller);
        Assert.Equal(ControlMode.Policy, h.Loop.Mode);
        var seg = Assert.Single(h.Memory.Inserted);
        Assert.Equal(RecoverySource.Agent, seg.Source);
        Assert.Equal(0.3f, seg.StartValue);
        Assert.Equal(0.5f, seg.TargetValue);
        Assert.Equal(3, seg.SpanSteps);
        Assert.Equal(20, seg.Step);

        var types = h.Sink.Events.Where(e => e.Type != LoopEventType.Step).Select(e => e.Type).ToArray();
        Assert.Equal([LoopEventType.EpisodeStarted, LoopEventType.SyntheticEStop, LoopEventType.RecoveryStarted, LoopEventType.RecoveryEnded], types);
        var ended = h.Sink.Events.Single(e => e.Type == LoopEventType.RecoveryEnded);
        Assert.Equal(InterventionOutcome.Recovered, ended.Outcome);
        Assert.Equal("inserted", ended.Memory);
        Assert.Equal(7ul, ended.GoalId);
        var estop = h.Sink.Events.Single(e => e.Type == LoopEventType.SyntheticEStop);
        Assert.Equal(8, estop.Window!.Length);
        Assert.Equal("plateau", estop.Reason);

        h.Run(5); // the trigger was reset at the hand-back: no refire while the window refills
        Assert.All(h.Decisions.Skip(21), d => Assert.Equal(Controller.Policy, d.Controller));
    }

    [Fact]
    public void Step_GoalReached_HandsBackBeforeValueRecovers()
    {
        var h = Started();
        h.Q = t => Harness.StallThenValue(t, _ => 0.31f);
        h.Z = t => t >= 20 ? [0f, 0.99f, 0.05f] : [1f, 0f, 0f];
        h.Run(21);
        Assert.Equal(ControlMode.Policy, h.Decisions[20].Mode);
        var ended = h.Sink.Events.Single(e => e.Type == LoopEventType.RecoveryEnded);
        Assert.Equal("goal_reached", ended.Reason);
        Assert.True(ended.GoalSimilarity >= 0.95f);
    }

    [Fact]
    public void Step_HumanTakesOverDuringRecovery_HumanActsUntilHandBack()
    {
        var h = Started();
        h.Q = t => Harness.StallThenValue(t, t => t < 23 ? 0.3f : 0.6f);
        float[] human = [0.1f, 0.2f];
        h.Supervisor.Decide_ = c => c.Step switch
        {
            19 => new HumanDecision(HumanDecisionKind.TakeOver, human),
            > 19 and < 23 => new HumanDecision(HumanDecisionKind.None, human),
            23 => new HumanDecision(HumanDecisionKind.HandBack),
            _ => HumanDecision.None,
        };
        h.Run(24);

        var takeover = h.Decisions[19];
        Assert.Equal(InterventionKind.HumanTakeover, takeover.Kind);
        Assert.True(takeover.LabelsPreviousTransition);
        Assert.False(takeover.Intervention);
        for (var t = 19; t < 23; t++)
        {
            Assert.Equal(Controller.Human, h.Decisions[t].Controller);
            Assert.Equal(human, h.Decisions[t].Action);
        }
        Assert.True(h.Supervisor.Seen[20].HumanInControl);
        Assert.Equal(Controller.Policy, h.Decisions[23].Controller);
        Assert.Equal(ControlMode.Policy, h.Loop.Mode);

        var ended = h.Sink.Events.Single(e => e.Type == LoopEventType.RecoveryEnded);
        Assert.Equal(InterventionOutcome.TakenOver, ended.Outcome);
        var handBack = h.Sink.Events.Single(e => e.Type == LoopEventType.HumanHandBack);
        Assert.Equal(InterventionOutcome.Recovered, handBack.Outcome); // 0.6 vs 0.3 when the human took over
        Assert.Equal(4, handBack.Span);
        var seg = Assert.Single(h.Memory.Inserted);
        Assert.Equal(RecoverySource.Human, seg.Source);
        Assert.Equal(0.6f, seg.TargetValue);
    }

    [Fact]
    public void Step_RecoveryBudgetSpent_EscalatesAndHumanAnswers()
    {
        var h = Started(new ArbitrationOptions { DecisionDeadlineMs = 0, RecoveryBudgetSteps = 5 });
        h.Q = t => Harness.StallThenValue(t, _ => 0.3f);
        float[] human = [0.4f, 0.4f];
        h.Supervisor.Decide_ = c => c.HelpRequested ? new HumanDecision(HumanDecisionKind.TakeOver, human) : HumanDecision.None;
        h.Run(25);

        Assert.All(h.Decisions.Skip(18).Take(5), d => Assert.Equal(Controller.Agent, d.Controller)); // 5 recovery actions
        var escalate = h.Decisions[23];
        Assert.Equal(ControlMode.AwaitingHuman, escalate.NextMode);
        Assert.Equal(new float[2], escalate.Action); // hold still while waiting
        Assert.True(h.Supervisor.Seen[24].HelpRequested);
        Assert.Equal(Controller.Human, h.Decisions[24].Controller);
        Assert.Equal(human, h.Decisions[24].Action);

        var help = h.Sink.Events.Single(e => e.Type == LoopEventType.HelpRequested);
        Assert.Equal("budget", help.Reason);
        Assert.Equal(InterventionOutcome.Escalated, h.Sink.Events.Single(e => e.Type == LoopEventType.RecoveryEnded).Outcome);
        Assert.Equal("help_answered", h.Sink.Events.Single(e => e.Type == LoopEventType.HumanTakeover).Reason);
        Assert.Empty(h.Memory.Inserted);
    }

    [Fact]
    public void Step_ValueKeepsFallingDuringRecovery_Escalates()
    {
        var h = Started();
        h.Q = t => Harness.StallThenValue(t, t => 0.3f - 0.04f * (t - 17));
        h.Run(22);
        var help = h.Sink.Events.Single(e => e.Type == LoopEventType.HelpRequested);
        Assert.Equal("value_drop", help.Reason); // 0.3 − 0.16 ≤ 0.3 − 0.15 at step 21
        Assert.Equal(21, help.Step);
        Assert.Equal(ControlMode.AwaitingHuman, h.Loop.Mode);
    }

    [Fact]
    public void Step_HelpUnanswered_StopsAfterTimeout()
    {
        var h = Started(new ArbitrationOptions { DecisionDeadlineMs = 0, RecoveryBudgetSteps = 2, HelpTimeoutSteps = 3 });
        h.Q = t => Harness.StallThenValue(t, _ => 0.3f);
        h.Run(26);
        // 17 fire, 18–19 recovery, 20 escalate, 21–23 wait, 24 stop
        Assert.Equal(ControlMode.AwaitingHuman, h.Decisions[23].Mode);
        Assert.True(h.Decisions[24].Stop);
        Assert.Equal(InterventionOutcome.TimedOut, h.Sink.Events.Single(e => e.Type == LoopEventType.Stopped).Outcome);
        Assert.True(h.Decisions[25].Stop);
    }

    [Theory]
    [InlineData(NoGoalBehavior.Escalate, ControlMode.AwaitingHuman)]
    [InlineData(NoGoalBehavior.EndEpisode, ControlMode.Stopped)]
    public void Step_MemoryHasNoGoal_FollowsNoGoalOption(NoGoalBehavior behavior, ControlMode expected)
    {
        var h = Started(new ArbitrationOptions { DecisionDeadlineMs = 0, NoGoal = behavior });
        h.Memory.Target = null;
        h.Q = t => Harness.StallThenValue(t, _ => 0.3f);
        h.Run(19);
        var fire = h.Decisions[17];
        Assert.True(fire.Intervention);
        Assert.Equal(expected, fire.NextMode);
        Assert.False(fire.Stop); // the e-stop step's policy action is applied, then control ends or waits
        Assert.Equal(behavior == NoGoalBehavior.EndEpisode, h.Decisions[18].Stop);
        Assert.Contains(h.Sink.Events, e => e.Outcome == InterventionOutcome.NoGoal);
        Assert.Equal(0, h.Recovery.Calls);
    }

    [Fact]
    public void Step_CriticSleepsPastDeadline_SafeStopWithinDeadline()
    {
        // A deadline generous enough that a loaded CI machine never misses it on the normal steps.
        var h = Started(new ArbitrationOptions { DecisionDeadlineMs = 400 });
        h.Loop.Warmup(Harness.Obs()); // JIT outside the deadline, as a robot bridge would
        h.Run(3);
        Assert.All(h.Decisions, d => Assert.False(d.Stop));
        h.Critic.SleepMs = 5000;
        var sw = Stopwatch.StartNew();
        var d = h.Step();
        sw.Stop();
        Assert.True(sw.ElapsedMilliseconds < 2500, $"decision took {sw.ElapsedMilliseconds} ms"); // 400 ms deadline, critic sleeps 5 s
        Assert.True(d.Stop);
        Assert.Equal(ControlMode.Stopped, d.Mode);
        Assert.Equal(new float[2], d.Action);
        var fault = h.Sink.Events.Single(e => e.Type == LoopEventType.AgentFault);
        Assert.StartsWith("timeout", fault.Reason);
        Assert.Equal("deadline", h.Sink.Events.Single(e => e.Type == LoopEventType.Stopped).Reason);
        Assert.True(h.Step().Stop); // stays stopped
    }

    [Fact]
    public void Step_CriticThrows_SafeStop()
    {
        var h = Started(new ArbitrationOptions { DecisionDeadlineMs = 500 }); // generous: a first throw is slow (stack trace, resources)
        h.Critic.Throw = true;
        var d = h.Step();
        Assert.True(d.Stop);
        Assert.Equal(new float[2], d.Action);
        var reason = h.Sink.Events.Single(e => e.Type == LoopEventType.AgentFault).Reason;
        Assert.True(reason!.Contains("critic exploded"), reason);
    }

    [Fact]
    public void Step_CriticReturnsNaN_SafeStop()
    {
        var h = Started();
        h.Q = _ => float.NaN;
        var d = h.Step();
        Assert.True(d.Stop);
        Assert.StartsWith("nan", h.Sink.Events.Single(e => e.Type == LoopEventType.AgentFault).Reason);
        Assert.Equal("agent_nan", h.Sink.Events.Single(e => e.Type == LoopEventType.Stopped).Reason);
    }

    [Fact]
    public void Step_PolicyActionNaN_SafeStop()
    {
        var h = Started();
        h.Policy.Action = [float.NaN, 0f];
        Assert.True(h.Step().Stop);
        Assert.Contains("policy action", h.Sink.Events.Single(e => e.Type == LoopEventType.AgentFault).Reason);
    }

    [Fact]
    public void Step_NaNObservation_RejectedBeforeAnyoneSeesIt()
    {
        var h = Started();
        h.Run(2);
        var calls = (h.Encoder.Calls, h.Critic.Calls, h.Policy.Calls, h.Supervisor.Seen.Count);
        var d = h.Step(new Observation { Proprio = [0.1f], ObjectState = [float.PositiveInfinity] });
        Assert.True(d.Stop);
        Assert.Equal(new float[2], d.Action);
        Assert.Equal(calls, (h.Encoder.Calls, h.Critic.Calls, h.Policy.Calls, h.Supervisor.Seen.Count));
        var rejected = h.Sink.Events.Single(e => e.Type == LoopEventType.ObservationRejected);
        Assert.Equal("object_state[0] = Infinity", rejected.Reason);
    }

    [Fact]
    public void Step_HumanEStop_StopsWithoutWaitingForTheAgent()
    {
        var h = Started(new ArbitrationOptions { DecisionDeadlineMs = 0 }); // no deadline: a slow agent would block
        h.Critic.SleepMs = 5000;
        h.Supervisor.Decide_ = _ => new HumanDecision(HumanDecisionKind.EStop);
        var sw = Stopwatch.StartNew();
        var d = h.Step();
        Assert.True(sw.ElapsedMilliseconds < 500, $"e-stop took {sw.ElapsedMilliseconds} ms");
        Assert.Equal(0, h.Critic.Calls);
        Assert.Equal(0, h.Policy.Calls);
        Assert.True(d.Stop);
        Assert.Equal(InterventionKind.HumanEStop, d.Kind);
        Assert.Equal(Controller.Human, d.Controller);
        Assert.Equal([LoopEventType.HumanEStop, LoopEventType.Stopped, LoopEventType.Step], d.Events.Select(e => e.Type));
    }

    [Fact]
    public void Step_HumanEStopDuringRecovery_EndsRecoveryAsStopped()
    {
        var h = Started();
        h.Q = t => Harness.StallThenValue(t, _ => 0.3f);
        h.Supervisor.Decide_ = c => c.Step == 19 ? new HumanDecision(HumanDecisionKind.EStop) : HumanDecision.None;
        h.Run(20);
        Assert.True(h.Decisions[19].Stop);
        Assert.Equal(InterventionOutcome.Stopped, h.Sink.Events.Single(e => e.Type == LoopEventType.RecoveryEnded).Outcome);
    }

    [Fact]
    public void Step_AgentDisabled_PolicyAndHumanOnly()
    {
        var h = Started(agent: false);
        h.Q = _ => 0.1f;
        h.Run(30);
        Assert.All(h.Decisions, d => Assert.Equal(Controller.Policy, d.Controller));
        Assert.Equal(0, h.Critic.Calls);
        Assert.DoesNotContain(h.Sink.Events, e => e.Type == LoopEventType.SyntheticEStop);
    }

    [Fact]
    public void Step_EachStep_EndsWithOneStepEventCarryingFlags()
    {
        var h = Started();
        h.Q = t => Harness.StallThenValue(t, _ => 0.6f);
        h.Run(20);
        Assert.All(h.Decisions, d => Assert.Equal(LoopEventType.Step, d.Events[^1].Type));
        var fire = h.Decisions[17].Events[^1];
        Assert.True(fire.E);
        Assert.Equal(InterventionKind.SyntheticEStop, fire.Kind);
        Assert.Equal(17, fire.Step);
        var seqs = h.Sink.Events.Select(e => e.Seq).ToArray();
        Assert.Equal(Enumerable.Range(0, seqs.Length).Select(i => (long)i), seqs);
    }

    [Fact]
    public void Constructor_MismatchedSizes_ThrowsNamingSizes()
    {
        var o = new ArbitrationOptions();
        var agent = new AgentComponents(new FakeEncoder(4), new ScriptedCritic(3, 2, () => 0), new RiskTrigger(), new FakeMemory(null), new FakeRecoveryPolicy(2, 3, [0, 0]));
        var e = Assert.Throws<ArgumentException>(() => new ArbitrationLoop(o, "t", new FakePolicy(2, [0, 0]), new ScriptedSupervisor(), agent));
        Assert.Contains("embedding size 3", e.Message);
        Assert.Contains("dimension 4", e.Message);
    }

    [Fact]
    public void Step_BeforeBeginEpisode_Throws()
    {
        var h = new Harness();
        Assert.Throws<InvalidOperationException>(() => h.Loop.Step(Harness.Obs()));
    }
}

public class ArbitrationOptionsTests
{
    [Fact]
    public void Constructor_InvalidOptions_ThrowsNamingProblem()
    {
        var o = new ArbitrationOptions { RecoveryBudgetSteps = 2, MinRecoverySteps = 5 };
        var e = Assert.Throws<ArgumentException>(() => new ArbitrationLoop(o, "t", new FakePolicy(2, [0, 0]), new ScriptedSupervisor()));
        Assert.Contains("MinRecoverySteps", e.Message);
    }
}
