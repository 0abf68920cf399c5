using Rift.Learning;
using Rift.Sim.Supervisors;

namespace Rift.Sim.Tests;

public class SupervisorTests
{
    private sealed class FakeOracle : ISupervisorOracle
    {
        public double Gap { get; set; }
        public double Progress { get; set; }
        public bool IsUnsafe { get; set; }
        public double ValueGap() => Gap;
    }

    private sealed class ConstantExpert(float value) : IExpert
    {
        public void Reset() { }
        public void Act(Observation observation, Span<float> action) => action.Fill(value);
    }

    private static readonly Observation Obs = new() { Proprio = new float[ObservationLayout.ProprioSize], ObjectState = new float[ObservationLayout.ObjectStateSize] };

    private static SupervisorContext Ctx(int step, double progress, bool human = false) =>
        new(step, Obs, new StepInfo(progress, false), human ? Controller.Human : Controller.Policy, human);

    [Fact]
    public void FalsePositiveRate_NoWarrantedSteps_MatchesConfiguration()
    {
        var o = new SimSupervisorOptions { Kind = SupervisorKind.EStop, Triggers = SupervisorTriggers.Unsafe, FalsePositiveRate = 0.1, Seed = 1 };
        var s = new SimulatedSupervisor(o, new FakeOracle(), new ConstantExpert(0));
        var estops = 0;
        for (var episode = 0; episode < 200; episode++)
        {
            s.Reset(episode);
            for (var t = 0; t < 100; t++)
                if (s.Decide(Ctx(t, 0.01 * t)).Kind == HumanDecisionKind.EStop) estops++;
        }
        var rate = (double)s.Stats.FalsePositives / s.Stats.UnwarrantedSteps;
        Assert.Equal(20000, s.Stats.UnwarrantedSteps);
        Assert.InRange(rate, 0.09, 0.11);
        Assert.Equal(s.Stats.FalsePositives, estops);
    }

    [Fact]
    public void MissRate_IsolatedUnsafeSteps_MatchesConfiguration()
    {
        var oracle = new FakeOracle();
        var o = new SimSupervisorOptions { Kind = SupervisorKind.EStop, Triggers = SupervisorTriggers.Unsafe, MissRate = 0.3, Seed = 2 };
        var s = new SimulatedSupervisor(o, oracle, new ConstantExpert(0));
        s.Reset(0);
        for (var t = 0; t < 16000; t++)
        {
            oracle.IsUnsafe = t % 4 == 0;
            s.Decide(Ctx(t, 0.5 + 1e-4 * t));
        }
        Assert.Equal(4000, s.Stats.WarrantedOnsets);
        Assert.InRange((double)s.Stats.Missed / s.Stats.WarrantedOnsets, 0.27, 0.33);
        Assert.Equal(s.Stats.WarrantedOnsets - s.Stats.Missed, s.Stats.Interventions);
        Assert.Equal(0, s.Stats.FalsePositives);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Stuck_PatienceAndDelay_FireAtExactStep(int delay)
    {
        var o = new SimSupervisorOptions { Kind = SupervisorKind.EStop, Triggers = SupervisorTriggers.Stuck, PatienceSteps = 5, ReactionDelaySteps = delay };
        var s = new SimulatedSupervisor(o, new FakeOracle(), new ConstantExpert(0));
        s.Reset(0);
        var fired = -1;
        for (var t = 0; t < 30 && fired < 0; t++)
        {
            // Progress until step 10, then a plateau.
            var phi = 0.05 * Math.Min(t, 10);
            if (s.Decide(Ctx(t, phi)).Kind == HumanDecisionKind.EStop) fired = t;
        }
        Assert.Equal(10 + 5 + delay, fired);
        Assert.All(s.Stats.Delays, d => Assert.Equal(delay, d));
    }

    [Fact]
    public void ValueGap_AboveThreshold_Fires_BelowDoesNot()
    {
        var oracle = new FakeOracle();
        var s = new SimulatedSupervisor(new SimSupervisorOptions { Kind = SupervisorKind.EStop, Triggers = SupervisorTriggers.ValueGap, ValueGapThreshold = 0.05 }, oracle, new ConstantExpert(0));
        s.Reset(0);
        oracle.Gap = 0.049;
        Assert.Equal(HumanDecisionKind.None, s.Decide(Ctx(0, 0.1)).Kind);
        oracle.Gap = 0.051;
        Assert.Equal(HumanDecisionKind.EStop, s.Decide(Ctx(1, 0.1)).Kind);
    }

    [Theory]
    [InlineData(0.05, 0.05, 0.03)]
    [InlineData(0.08, 0.05, 0.03)]
    [InlineData(0.02, 0.05, 0.03)]
    public void Probit_ConstantGap_FiresWithMileProbability(double gap, double c, double sigma)
    {
        var oracle = new FakeOracle { Gap = gap };
        var o = new SimSupervisorOptions { Kind = SupervisorKind.EStop, Triggers = SupervisorTriggers.Probit, ProbitCost = c, ProbitSigma = sigma, Seed = 3 };
        var s = new SimulatedSupervisor(o, oracle, new ConstantExpert(0));
        s.Reset(0);
        const int n = 20000;
        for (var t = 0; t < n; t++) s.Decide(Ctx(t, 1e-4 * t));
        var expected = SimulatedSupervisor.NormalCdf((gap - c) / sigma);
        Assert.InRange((double)s.Stats.Interventions / n, expected - 0.015, expected + 0.015);
    }

    [Fact]
    public void NormalCdf_KnownValues()
    {
        Assert.Equal(0.5, SimulatedSupervisor.NormalCdf(0), 6);
        Assert.Equal(0.841345, SimulatedSupervisor.NormalCdf(1), 5);
        Assert.Equal(0.022750, SimulatedSupervisor.NormalCdf(-2), 5);
    }

    [Fact]
    public void Takeover_NoProgress_ControlsForHStepsThenHandsBack()
    {
        var oracle = new FakeOracle { IsUnsafe = true };
        var o = new SimSupervisorOptions { Kind = SupervisorKind.Takeover, Triggers = SupervisorTriggers.Unsafe, TakeoverSteps = 6 };
        var s = new SimulatedSupervisor(o, oracle, new ConstantExpert(0.5f));
        s.Reset(0);
        var kinds = Enumerable.Range(0, 7).Select(t => s.Decide(Ctx(t, 0.3, s.InControl))).ToList();
        Assert.All(kinds.Take(6), d => Assert.Equal(HumanDecisionKind.TakeOver, d.Kind));
        Assert.All(kinds.Take(6), d => Assert.Equal([0.5f, 0.5f, 0.5f, 0.5f], d.Action!));
        Assert.Equal(HumanDecisionKind.HandBack, kinds[6].Kind);
        Assert.Equal(6, s.Stats.HumanSteps);
    }

    [Fact]
    public void Takeover_ProgressRestored_HandsBackEarly()
    {
        var o = new SimSupervisorOptions { Kind = SupervisorKind.Takeover, Triggers = SupervisorTriggers.Unsafe, TakeoverSteps = 50, RestoreMargin = 0.1 };
        var oracle = new FakeOracle { IsUnsafe = true };
        var s = new SimulatedSupervisor(o, oracle, new ConstantExpert(0));
        s.Reset(0);
        Assert.Equal(HumanDecisionKind.TakeOver, s.Decide(Ctx(0, 0.2)).Kind);
        oracle.IsUnsafe = false;
        Assert.Equal(HumanDecisionKind.TakeOver, s.Decide(Ctx(1, 0.25, true)).Kind);
        Assert.Equal(HumanDecisionKind.HandBack, s.Decide(Ctx(2, 0.31, true)).Kind);
        Assert.False(s.InControl);
        Assert.Equal(HumanDecisionKind.None, s.Decide(Ctx(3, 0.32)).Kind);
    }

    [Fact]
    public void Takeover_ActionNoise_HasConfiguredSpread()
    {
        var o = new SimSupervisorOptions { Kind = SupervisorKind.Takeover, Triggers = SupervisorTriggers.Unsafe, TakeoverSteps = 10000, ActionNoise = 0.2, Seed = 4 };
        var s = new SimulatedSupervisor(o, new FakeOracle { IsUnsafe = true }, new ConstantExpert(0));
        s.Reset(0);
        var values = new List<double>();
        for (var t = 0; t < 2500; t++) values.AddRange(s.Decide(Ctx(t, 0.3, t > 0)).Action!.Select(v => (double)v));
        var mean = values.Average();
        var std = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(std, 0.19, 0.21);
    }

    [Fact]
    public void Reset_SameSeeds_ReproducesDecisions()
    {
        var o = new SimSupervisorOptions { Kind = SupervisorKind.EStop, Triggers = SupervisorTriggers.Probit, Seed = 9 };
        var oracle = new FakeOracle { Gap = 0.05 };
        List<HumanDecisionKind> Run()
        {
            var s = new SimulatedSupervisor(o, oracle, new ConstantExpert(0));
            s.Reset(42);
            return [.. Enumerable.Range(0, 200).Select(t => s.Decide(Ctx(t, 0.001 * t)).Kind)];
        }
        Assert.Equal(Run(), Run());
    }

    [Theory]
    [InlineData("push")]
    [InlineData("peg-insert")]
    [InlineData("pick-place")]
    public void OnEnvironment_ExpertRollout_NoIntervention_IdleRobot_Intervened(string task)
    {
        using var env = SimTasks.Create(task);
        var o = new SimSupervisorOptions { Kind = SupervisorKind.Takeover, PatienceSteps = 6 };
        var supervisor = SimulatedSupervisor.For(env, o);
        var expert = SimTasks.CreateExpert(task);
        var a = new float[4];

        // The expert itself makes progress every step: no value gap, never stuck.
        for (var seed = 0; seed < 3; seed++)
        {
            supervisor.Reset(seed);
            var (obs, info) = env.Reset(seed);
            for (var t = 0; ; t++)
            {
                Assert.Equal(HumanDecisionKind.None, supervisor.Decide(new SupervisorContext(t, obs, info, Controller.Policy, false)).Kind);
                expert.Act(obs, a);
                var r = env.Step(a);
                (obs, info) = (r.Observation, r.Info);
                if (r.Terminated || r.Truncated) break;
            }
        }

        // An idle robot gets noticed after the patience window, and the takeover makes progress.
        supervisor.Reset(7);
        var (o2, i2) = env.Reset(7);
        var human = false;
        var start = i2.Progress;
        for (var t = 0; t < 40; t++)
        {
            var d = supervisor.Decide(new SupervisorContext(t, o2, i2, human ? Controller.Human : Controller.Policy, human));
            human = d.Kind == HumanDecisionKind.TakeOver;
            var r = env.Step(human ? d.Action! : [0f, 0f, 0f, 0f]);
            (o2, i2) = (r.Observation, r.Info);
            if (r.Terminated) break;
        }
        Assert.True(supervisor.Stats.Interventions >= 1);
        Assert.True(i2.Progress > start + 0.1, $"progress {start:F3} → {i2.Progress:F3}");
    }
}
