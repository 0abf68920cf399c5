using Rift.Learning;
using Rift.ValueCritic;

namespace Rift.ValueCritic.Tests.Data;

public class CounterfactualLabelerTests
{
    /// <summary>A point on a line: Φ = x, each step moves x by 0.01·a₀. Known odds of progress under action noise.</summary>
    private sealed class LineEnv : IEnvironment
    {
        private double _x;
        private int _t;

        public EnvSpec Spec { get; } = new("line", 4, 1, 1000, 0.1);

        public (Observation Observation, StepInfo Info) Reset(int seed)
        {
            (_x, _t) = (0.5, 0);
            return (Obs(), new StepInfo(_x, false));
        }

        public StepResult Step(ReadOnlySpan<float> action)
        {
            _x += 0.01 * action[0];
            _t++;
            return new StepResult(Obs(), 0, false, _t >= Spec.MaxEpisodeSteps, new StepInfo(_x, false));
        }

        public byte[] CaptureState() => [.. BitConverter.GetBytes(_x), .. BitConverter.GetBytes(_t)];

        public void RestoreState(byte[] state) => (_x, _t) = (BitConverter.ToDouble(state, 0), BitConverter.ToInt32(state, 8));

        private Observation Obs() => new() { Proprio = [(float)_x] };

        public void Dispose() { }
    }

    private static double NeededRate(int rollouts, float speed)
    {
        using var env = new LineEnv();
        using var rollout = new LineEnv();
        var labeler = new CounterfactualLabeler(rollout, () => new ConstantExpert(speed), horizon: 10, minImprovement: 0.01, rollouts);
        var policy = new PerturbedExpertPolicy(new ConstantExpert(speed), new PerturbedExpertOptions { ActionNoise = 0.25, LapseProbability = 0 }, 1000);
        var (obs, info) = env.Reset(0);
        policy.Reset(1);
        var needed = 0;
        const int n = 400;
        for (var i = 0; i < n; i++)
            if (labeler.NeedsIntervention(env, policy, obs, info.Progress, noiseSeed: 1000 + i)) needed++;
        return (double)needed / n;
    }

    [Fact]
    public void NeedsIntervention_MajorityOfRollouts_RemovesSamplingNoise()
    {
        // a₀ = 0.15 + N(0, 0.25²) for 10 steps: the rollout improves (Σa₀ > 1) with probability Φ(0.632) ≈ 0.74. One
        // rollout labels "needed" ≈ 26% of the time; a majority of 15 only when ≤ 7 of 15 improve, ≈ 3%.
        var single = NeededRate(1, 0.15f);
        var majority = NeededRate(15, 0.15f);
        Assert.InRange(single, 0.18, 0.36);
        Assert.True(majority < 0.08, $"majority-of-15 label rate {majority}");
        // Mirror image: a policy that mostly fails (a₀ = 0.05, improves with probability ≈ 0.26) is "needed" almost always.
        Assert.True(NeededRate(15, 0.05f) > 0.92);
    }

    [Fact]
    public void NeedsIntervention_DuringLapse_KnowsItsEndOnlyWhenKeepingTheSchedule()
    {
        // A temporary freeze-like lapse (Freeze or Release: a₀ = 0) with 3 steps left; after it the policy gains ≈ 0.009
        // per step, so 2 free steps of the 10 already improve Φ by > 0.01. Keeping the episode's schedule every rollout
        // knows the lapse ends in 3 steps: never "needed". Redrawing it given that it has run e steps, a rollout is
        // "needed" when the lapse is permanent or has ≥ 9 steps left.
        var options = new PerturbedExpertOptions { ActionNoise = 0.25 };
        var policy = new PerturbedExpertPolicy(new ConstantExpert(1f), options, 1000);
        var seed = 0;
        for (; ; seed++)
        {
            policy.Reset(seed);
            if (policy.Kind is LapseKind.Freeze or LapseKind.Release && policy.LapseEnd != int.MaxValue) break;
        }
        var a = new float[4];
        var obs = new Observation { Proprio = [0.5f] };
        while (policy.Step < policy.LapseEnd - 3) policy.Act(obs, a);
        var elapsed = policy.Step - policy.LapseStart;
        int running = 0, long9 = 0;
        for (var d = options.LapseMinSteps; d <= options.LapseMaxSteps; d++)
            if (d > elapsed) { running++; if (d - elapsed >= 9) long9++; }
        var temporary = 1.0 / (options.LapseMaxSteps - options.LapseMinSteps + 1);
        var expected = (options.PermanentLapseFraction + (1 - options.PermanentLapseFraction) * temporary * long9)
                       / (options.PermanentLapseFraction + (1 - options.PermanentLapseFraction) * temporary * running);

        double Rate(bool redraw)
        {
            using var env = new LineEnv();
            using var rollout = new LineEnv();
            var labeler = new CounterfactualLabeler(rollout, () => new ConstantExpert(1f), horizon: 10, minImprovement: 0.01, rollouts: 1, redrawSchedule: redraw);
            var (o, info) = env.Reset(0);
            const int n = 2000;
            var needed = 0;
            for (var i = 0; i < n; i++)
                if (labeler.NeedsIntervention(env, policy, o, info.Progress, noiseSeed: 5000 + i)) needed++;
            return (double)needed / n;
        }

        Assert.Equal(0.0, Rate(redraw: false));
        Assert.InRange(Rate(redraw: true), expected - 0.05, expected + 0.05);
    }

    [Fact]
    public void ImprovingFraction_RunsEveryRollout_AndGivesTheMajorityLabel()
    {
        // a₀ = 0.15 + N(0, 0.25²): a rollout improves with probability Φ(0.632) ≈ 0.736. The fraction of all 5
        // rollouts estimates it, and thresholding it gives the early-stopped majority label of the same seed.
        using var env = new LineEnv();
        using var rollout = new LineEnv();
        var labeler = new CounterfactualLabeler(rollout, () => new ConstantExpert(0.15f), horizon: 10, minImprovement: 0.01, rollouts: 5);
        var policy = new PerturbedExpertPolicy(new ConstantExpert(0.15f), new PerturbedExpertOptions { ActionNoise = 0.25, LapseProbability = 0 }, 1000);
        var (obs, info) = env.Reset(0);
        policy.Reset(1);
        var sum = 0.0;
        var seen = new HashSet<float>();
        const int n = 400;
        for (var i = 0; i < n; i++)
        {
            var f = labeler.ImprovingFraction(env, policy, obs, info.Progress, noiseSeed: 1000 + i);
            Assert.Equal(labeler.NeedsIntervention(env, policy, obs, info.Progress, noiseSeed: 1000 + i), labeler.IsNeeded(f));
            sum += f;
            seen.Add(f);
        }
        Assert.InRange(sum / n, 0.70, 0.77);
        Assert.Subset(new HashSet<float> { 0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f }, seen);
        Assert.Contains(0.4f, seen); // fractions the early stop never sees: 2 of 5, and 3 or 4 of 5
        Assert.Contains(0.8f, seen);
        Assert.True(labeler.IsNeeded(0.4f));
        Assert.False(labeler.IsNeeded(0.6f));
    }

    [Fact]
    public void Hook_WithOdds_KeepsTheSameLabels()
    {
        RolloutEpisode Label(bool odds)
        {
            using var env = new LineEnv();
            using var rollout = new LineEnv();
            var labeler = new CounterfactualLabeler(rollout, () => new ConstantExpert(0.1f), horizon: 10, minImprovement: 0.01, rollouts: 3);
            var collector = new RolloutCollector(env, () => new ConstantExpert(0.1f), new PerturbedExpertOptions { ActionNoise = 0.25 }) { BeforeStep = labeler.Hook(odds) };
            return collector.Run(RolloutKind.Base, 4);
        }
        var (plain, withOdds) = (Label(false), Label(true));
        Assert.Empty(plain.LabelOdds);
        Assert.Equal(withOdds.Steps, withOdds.LabelOdds.Count);
        Assert.Equal(plain.Actions, withOdds.Actions);
        Assert.Equal(plain.Labels, withOdds.Labels);
        Assert.Contains(plain.Labels, l => l);
        Assert.Contains(plain.Labels, l => !l);
    }

    [Fact]
    public void Constructor_NoRollouts_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CounterfactualLabeler(new LineEnv(), () => new ConstantExpert(0f), 10, 0.01, rollouts: 0));
}
