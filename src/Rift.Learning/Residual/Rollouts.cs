namespace Rift.Learning;

/// <summary>Deterministic evaluation result: SR without interventions and the episode intervention rate.</summary>
public readonly record struct EvaluationResult(double SuccessRate, double InterventionRateEpisode, int Episodes, double MeanSteps);

/// <summary>Rollouts of a policy under a (simulated or real) supervisor, with the RIFT / HiL-SERL conventions.</summary>
public static class Rollouts
{
    /// <summary>
    /// One episode: the policy acts (sampled unless <paramref name="deterministic"/>); before each action the supervisor
    /// decides. An e-stop marks the previous transition with e = 1 (kind HumanEStop) and truncates the episode there
    /// (RIFT Algorithm 1); a takeover marks it with e = 1 (HumanTakeover) and the human's actions follow (controller
    /// Human) until the hand-back.
    /// </summary>
    public static EpisodeRecord Run(IEnvironment env, IPolicy policy, IHumanSupervisor? supervisor, int seed, bool deterministic, Random rng)
    {
        var (obs, info) = env.Reset(seed);
        supervisor?.Reset(seed);
        var rec = new EpisodeRecord { Task = env.Spec.Task, Seed = seed };
        var action = new float[env.Spec.ActionSize];
        var human = false;
        for (var step = 0; ; step++)
        {
            var decision = supervisor?.Decide(new SupervisorContext(step, obs, info, human ? Controller.Human : Controller.Policy, human)) ?? HumanDecision.None;
            if (decision.Kind == HumanDecisionKind.EStop && rec.Transitions.Count > 0)
            {
                Mark(rec, InterventionKind.HumanEStop, truncate: true);
                return rec;
            }
            if (decision.Kind == HumanDecisionKind.TakeOver && decision.Action is not null)
            {
                if (!human && rec.Transitions.Count > 0) Mark(rec, InterventionKind.HumanTakeover, truncate: false);
                else if (!human) rec.InterventionCount++;
                human = true;
            }
            else if (decision.Kind == HumanDecisionKind.HandBack) human = false;

            if (human) decision.Action!.AsSpan().CopyTo(action);
            else policy.Act(obs.PolicyInput(), action, deterministic, rng);
            var input = obs.PolicyInput();
            var r = env.Step(action);
            rec.Transitions.Add(new Transition
            {
                Input = input, Action = (float[])action.Clone(), Reward = (float)r.Reward, NextInput = r.Observation.PolicyInput(),
                Terminated = r.Terminated, Truncated = r.Truncated, Controller = human ? Controller.Human : Controller.Policy,
            });
            if (human) rec.HumanSteps++;
            obs = r.Observation;
            info = r.Info;
            if (r.Terminated || r.Truncated)
            {
                rec.Success = r.Info.Success;
                return rec;
            }
        }
    }

    private static void Mark(EpisodeRecord rec, InterventionKind kind, bool truncate)
    {
        var t = rec.Transitions[^1];
        rec.Transitions[^1] = new Transition
        {
            Input = t.Input, Action = t.Action, Reward = t.Reward, NextInput = t.NextInput, Terminated = t.Terminated,
            Truncated = t.Truncated || truncate, Controller = t.Controller, Intervention = true, Kind = kind,
        };
        rec.InterventionCount++;
    }

    /// <summary>
    /// Deterministic evaluation (RIFT §6.1): SR without interventions; a shadow supervisor watches the same rollout and
    /// the episode counts as intervened if it would have intervened at any step (identical to rolling out with the
    /// e-stop up to that step, since the policy is deterministic).
    /// </summary>
    public static EvaluationResult Evaluate(IEnvironment env, IPolicy policy, int episodes, int seed0, IHumanSupervisor? shadow, Action? onEpisode = null)
    {
        int successes = 0, intervened = 0;
        long steps = 0;
        var action = new float[env.Spec.ActionSize];
        var rng = new Random(seed0);
        for (var e = 0; e < episodes; e++)
        {
            var (obs, info) = env.Reset(seed0 + e);
            shadow?.Reset(seed0 + e);
            var fired = false;
            for (var step = 0; ; step++)
            {
                if (shadow is not null && !fired && step > 0)
                {
                    var d = shadow.Decide(new SupervisorContext(step, obs, info, Controller.Policy, false));
                    fired = d.Kind is HumanDecisionKind.EStop or HumanDecisionKind.TakeOver;
                }
                policy.Act(obs.PolicyInput(), action, true, rng);
                var r = env.Step(action);
                steps++;
                obs = r.Observation;
                info = r.Info;
                if (r.Terminated || r.Truncated)
                {
                    if (r.Info.Success) successes++;
                    break;
                }
            }
            if (fired) intervened++;
            onEpisode?.Invoke();
        }
        return new EvaluationResult((double)successes / episodes, (double)intervened / episodes, episodes, (double)steps / episodes);
    }
}

/// <summary>
/// A simple e-stop rule over the privileged oracle progress in <see cref="StepInfo"/> (for simulation only):
/// stop when progress has not improved by <c>epsilon</c> for <c>patience</c> steps, or fell more than <c>drop</c> below
/// its best. Large patience/drop make interventions rare and coarse (low informativeness).
/// </summary>
public sealed class ProgressEStopSupervisor(int patience, double drop, double epsilon = 0.01) : IHumanSupervisor
{
    private double _best;
    private int _since;

    public void Reset(int episodeSeed)
    {
        _best = double.NegativeInfinity;
        _since = 0;
    }

    public HumanDecision Decide(in SupervisorContext context)
    {
        var p = context.Info.Progress;
        if (p > _best + epsilon || double.IsNegativeInfinity(_best))
        {
            _best = p;
            _since = 0;
        }
        else _since++;
        if (context.Info.Success) return HumanDecision.None;
        return _since >= patience || p < _best - drop ? new HumanDecision(HumanDecisionKind.EStop) : HumanDecision.None;
    }
}
