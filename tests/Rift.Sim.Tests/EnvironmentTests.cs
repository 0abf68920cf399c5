using Rift.Learning;

namespace Rift.Sim.Tests;

public class EnvironmentTests
{
    public static TheoryData<string> Tasks() => new(SimTasks.TaskNames);

    [Theory]
    [MemberData(nameof(Tasks))]
    public void CaptureRestore_AfterRandomSteps_ReplaysBitForBit(string task)
    {
        using var env = SimTasks.Create(task);
        env.Reset(11);
        var rng = new Random(5);
        float[] RandomAction() => [.. Enumerable.Range(0, 4).Select(_ => (float)(2 * rng.NextDouble() - 1))];
        for (var i = 0; i < 8; i++) env.Step(RandomAction());
        var state = env.CaptureState();
        var actions = Enumerable.Range(0, 12).Select(_ => RandomAction()).ToArray();
        var first = actions.Select(a => Flatten(env.Step(a))).ToArray();

        // Disturb the simulator (another episode), then restore and replay.
        env.Reset(99);
        env.Step(RandomAction());
        env.RestoreState(state);
        Assert.Equal(8, env.StepCount);
        var second = actions.Select(a => Flatten(env.Step(a))).ToArray();
        for (var i = 0; i < first.Length; i++) Assert.Equal(first[i], second[i]);
    }

    private static double[] Flatten(StepResult r) =>
        [.. r.Observation.PolicyInput().Select(v => (double)v), r.Reward, r.Terminated ? 1 : 0, r.Truncated ? 1 : 0, r.Info.Progress];

    [Fact]
    public void RestoreState_OtherTask_Throws()
    {
        using var push = SimTasks.Create("push");
        using var pick = SimTasks.Create("pick-place");
        push.Reset(0);
        var e = Assert.Throws<ArgumentException>(() => pick.RestoreState(push.CaptureState()));
        Assert.Contains("push", e.Message);
    }

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Reset_SameSeed_SameObservation_DifferentSeed_Differs(string task)
    {
        using var env = SimTasks.Create(task);
        var a = env.Reset(3).Observation.PolicyInput();
        var b = env.Reset(3).Observation.PolicyInput();
        var c = env.Reset(4).Observation.PolicyInput();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(env.Spec.PolicyInputSize, a.Length);
        Assert.Equal(ObservationLayout.ProprioSize, env.Reset(3).Observation.Proprio.Length);
    }

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Step_ZeroActions_TruncatesAtTimeLimitWithoutReward(string task)
    {
        using var env = SimTasks.Create(task, new SimOptions { MaxEpisodeSteps = 12 });
        env.Reset(1);
        StepResult r = default;
        for (var i = 0; i < 12; i++)
        {
            r = env.Step([0f, 0f, 0f, 0f]);
            Assert.InRange(r.Info.Progress, 0.0, 1.0);
            if (i < 11) Assert.False(r.Truncated || r.Terminated);
        }
        Assert.True(r.Truncated);
        Assert.False(r.Terminated);
        Assert.Equal(0.0, r.Reward);
        Assert.Equal(0, env.WarningCount);
    }

    [Fact]
    public void Step_BadAction_ThrowsNamingTheProblem()
    {
        using var env = SimTasks.Create("push");
        Assert.Throws<InvalidOperationException>(() => env.Step([0f, 0f, 0f, 0f]));
        env.Reset(0);
        Assert.Contains("3 components", Assert.Throws<ArgumentException>(() => env.Step([0f, 0f, 0f])).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => env.Step([0f, float.NaN, 0f, 0f])).Message);
    }

    [Fact]
    public void Create_UnknownTask_ListsKnownTasks()
    {
        var e = Assert.Throws<ArgumentException>(() => SimTasks.Create("stack"));
        Assert.Contains("peg-insert", e.Message);
    }

    [Fact]
    public void Spec_ControlRateAndSizes_MatchOptions()
    {
        using var env = SimTasks.Create("pick-place");
        Assert.Equal(0.1, env.Spec.ControlDt, 9);
        Assert.Equal(25, env.Substeps);
        Assert.Equal(4, env.Spec.ActionSize);
        Assert.Equal(21, env.Spec.PolicyInputSize);
        Assert.Equal(80, env.Spec.MaxEpisodeSteps);
    }

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Expert_FewSeeds_SucceedsWithMonotoneProgress(string task)
    {
        using var env = SimTasks.Create(task);
        var expert = SimTasks.CreateExpert(task);
        var a = new float[4];
        for (var seed = 100; seed < 105; seed++)
        {
            expert.Reset();
            var (obs, info) = env.Reset(seed);
            var previous = info.Progress;
            var worstDrop = 0.0;
            StepResult r;
            do
            {
                expert.Act(obs, a);
                r = env.Step(a);
                obs = r.Observation;
                worstDrop = Math.Max(worstDrop, previous - r.Info.Progress);
                previous = r.Info.Progress;
            }
            while (!r.Terminated && !r.Truncated);
            Assert.True(r.Info.Success, $"{task} seed {seed}: expert failed");
            Assert.Equal(1.0, r.Reward);
            Assert.Equal(1.0, r.Info.Progress);
            Assert.True(worstDrop < 0.05, $"{task} seed {seed}: progress dropped by {worstDrop:F3} along the expert's path");
        }
    }

    [Fact]
    public void ValueGap_ExpertAction_IsZeroAndLeavesStateUntouched()
    {
        using var env = SimTasks.Create("push");
        var expert = SimTasks.CreateExpert("push");
        var (obs, _) = env.Reset(2);
        var a = new float[4];
        for (var i = 0; i < 5; i++)
        {
            expert.Act(obs, a);
            obs = env.Step(a).Observation;
        }
        var before = env.CaptureState();
        Assert.Equal(0.0, env.ValueGap(), 12);
        Assert.Equal(before, env.CaptureState());
        // Pushing away from the expert's direction loses progress against it.
        expert.Act(obs, a);
        env.Step([-a[0], -a[1], 1f, -1f]);
        Assert.True(env.ValueGap() > 0);
    }
}
