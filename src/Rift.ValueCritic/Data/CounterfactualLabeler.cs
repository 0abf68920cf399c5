namespace Rift.ValueCritic;

/// <summary>
/// Counterfactual "intervention needed" labels (DESIGN.md §8): restore the simulator state of step t into a second
/// (frameless) environment, roll the base policy forward H steps with a fresh noise stream, and label the step
/// "needed" when the oracle progress at the end of that rollout is not above Φ(s_t) + MinImprovement. A rollout
/// that reaches success counts as improved; one that fails or hits the time limit is judged where it stopped.
/// </summary>
public sealed class CounterfactualLabeler(IEnvironment rolloutEnv, Func<IExpert> expertFactory, int horizon, double minImprovement)
{
    private readonly float[] _a = new float[rolloutEnv.Spec.ActionSize];

    public int Horizon { get; } = horizon > 0 ? horizon : throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "Horizon must be positive.");

    public double MinImprovement { get; } = minImprovement;

    /// <summary>Labels the current step of <paramref name="env"/> (before the policy acts on <paramref name="observation"/>).</summary>
    public bool NeedsIntervention(IEnvironment env, PerturbedExpertPolicy policy, Observation observation, double progress, int noiseSeed)
    {
        rolloutEnv.RestoreState(env.CaptureState());
        var p = policy.Fork(expertFactory(), noiseSeed);
        var obs = observation;
        var end = progress;
        for (var h = 0; h < Horizon; h++)
        {
            p.Act(obs, _a);
            var r = rolloutEnv.Step(_a);
            obs = r.Observation;
            end = r.Info.Success ? 1.0 : r.Info.Progress;
            if (r.Terminated || r.Truncated) break;
        }
        return !(end > progress + MinImprovement);
    }

    /// <summary>A <see cref="RolloutCollector.BeforeStep"/> hook that appends the label of each base-policy step.</summary>
    public Action<IEnvironment, PerturbedExpertPolicy, RolloutEpisode, Observation> Hook() => (env, policy, ep, obs) =>
        ep.Labels.Add(NeedsIntervention(env, policy, obs, ep.Progress[^1], unchecked(ep.Seed * 1_000_003 + ep.Labels.Count)));
}
