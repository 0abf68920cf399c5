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

    /// <summary>Always commands a₀ = <paramref name="speed"/>.</summary>
    private sealed class ConstantExpert(float speed) : IExpert
    {
        public void Reset() { }

        public void Act(Observation observation, Span<float> action)
        {
            action.Clear();
            action[0] = speed;
        }
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
    public void Constructor_NoRollouts_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new CounterfactualLabeler(new LineEnv(), () => new ConstantExpert(0f), 10, 0.01, rollouts: 0));
}
