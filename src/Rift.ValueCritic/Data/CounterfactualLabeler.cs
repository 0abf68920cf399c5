namespace Rift.ValueCritic;

/// <summary>
/// Counterfactual "intervention needed" labels (DESIGN.md §8): restore the simulator state of step t into a second
/// (frameless) environment, roll the base policy forward H steps with a fresh noise stream, and call the rollout
/// improved when the oracle progress at its end is above Φ(s_t) + MinImprovement (a rollout that reaches success
/// counts as improved; one that fails or hits the time limit is judged where it stopped). The base policy is
/// stochastic, so "does the policy make progress from here?" is a probability: with <c>rollouts</c> = N the step is
/// labelled "needed" unless a majority of N rollouts improve. N = 1 is the single-sample label; larger N removes the
/// sampling noise of that estimate. Each rollout draws the policy's future randomness afresh: its action noise and,
/// with <c>redrawSchedule</c>, the rest of its lapse schedule given the past (<see cref="PerturbedExpertPolicy.Fork"/>),
/// so a label says what the policy is likely to do from this state, not what this episode's dice say it will do.
/// </summary>
public sealed class CounterfactualLabeler
{
    private readonly IEnvironment _rolloutEnv;
    private readonly Func<IExpert> _expertFactory;
    private readonly float[] _a;

    public CounterfactualLabeler(IEnvironment rolloutEnv, Func<IExpert> expertFactory, int horizon, double minImprovement, int rollouts = 1, bool redrawSchedule = true)
    {
        _rolloutEnv = rolloutEnv ?? throw new ArgumentNullException(nameof(rolloutEnv));
        _expertFactory = expertFactory ?? throw new ArgumentNullException(nameof(expertFactory));
        Horizon = horizon > 0 ? horizon : throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "Horizon must be positive.");
        Rollouts = rollouts > 0 ? rollouts : throw new ArgumentOutOfRangeException(nameof(rollouts), rollouts, "At least one counterfactual rollout per label.");
        MinImprovement = minImprovement;
        RedrawSchedule = redrawSchedule;
        _a = new float[rolloutEnv.Spec.ActionSize];
    }

    public int Horizon { get; }

    public double MinImprovement { get; }

    /// <summary>Counterfactual rollouts per label (majority vote).</summary>
    public int Rollouts { get; }

    /// <summary>Whether each rollout redraws the rest of the lapse schedule (else it keeps the episode's own).</summary>
    public bool RedrawSchedule { get; }

    /// <summary>Labels the current step of <paramref name="env"/> (before the policy acts on <paramref name="observation"/>).</summary>
    public bool NeedsIntervention(IEnvironment env, PerturbedExpertPolicy policy, Observation observation, double progress, int noiseSeed)
    {
        var state = env.CaptureState();
        int improved = 0, majority = Rollouts / 2 + 1;
        for (var i = 0; i < Rollouts; i++)
        {
            if (Improves(state, policy, observation, progress, RolloutSeed(noiseSeed, i)) && ++improved >= majority) return false;
            if (improved + (Rollouts - i - 1) < majority) return true; // the remaining rollouts cannot make a majority
        }
        return true;
    }

    /// <summary>
    /// The fraction of all N rollouts from the current step that improve (no early stop at the majority). The rollouts
    /// are those <see cref="NeedsIntervention"/> runs for the same seed, so the step is "needed" exactly when this
    /// fraction is not above one half (<see cref="IsNeeded"/>).
    /// </summary>
    public float ImprovingFraction(IEnvironment env, PerturbedExpertPolicy policy, Observation observation, double progress, int noiseSeed)
    {
        var state = env.CaptureState();
        var improved = 0;
        for (var i = 0; i < Rollouts; i++)
            if (Improves(state, policy, observation, progress, RolloutSeed(noiseSeed, i))) improved++;
        return (float)improved / Rollouts;
    }

    /// <summary>The label of a step whose rollouts improve with <paramref name="fraction"/>: "needed" unless a majority improve.</summary>
    public bool IsNeeded(float fraction) => (int)MathF.Round(fraction * Rollouts) < Rollouts / 2 + 1;

    /// <summary>The noise seed of rollout <paramref name="i"/> of a step, shared by the majority label and the odds.</summary>
    private static int RolloutSeed(int noiseSeed, int i) => unchecked(noiseSeed + i * 7_368_787);

    private bool Improves(byte[] state, PerturbedExpertPolicy policy, Observation observation, double progress, int noiseSeed)
    {
        _rolloutEnv.RestoreState(state);
        var p = policy.Fork(_expertFactory(), noiseSeed, RedrawSchedule);
        var obs = observation;
        var end = progress;
        for (var h = 0; h < Horizon; h++)
        {
            p.Act(obs, _a);
            var r = _rolloutEnv.Step(_a);
            obs = r.Observation;
            end = r.Info.Success ? 1.0 : r.Info.Progress;
            if (r.Terminated || r.Truncated) break;
        }
        return end > progress + MinImprovement;
    }

    /// <summary>
    /// A <see cref="RolloutCollector.BeforeStep"/> hook that appends the label of each base-policy step; with
    /// <paramref name="odds"/> it runs all N rollouts of every step and also appends their improving fraction to
    /// <see cref="RolloutEpisode.LabelOdds"/> (the labels are the same; labelling costs more).
    /// </summary>
    public Action<IEnvironment, PerturbedExpertPolicy, RolloutEpisode, Observation> Hook(bool odds = false) => (env, policy, ep, obs) =>
    {
        var seed = unchecked(ep.Seed * 1_000_003 + ep.Labels.Count);
        if (!odds)
        {
            ep.Labels.Add(NeedsIntervention(env, policy, obs, ep.Progress[^1], seed));
            return;
        }
        var fraction = ImprovingFraction(env, policy, obs, ep.Progress[^1], seed);
        ep.LabelOdds.Add(fraction);
        ep.Labels.Add(IsNeeded(fraction));
    };
}
