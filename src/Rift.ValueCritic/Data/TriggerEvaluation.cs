using System.ComponentModel.DataAnnotations;

namespace Rift.ValueCritic;

/// <summary>Counterfactual labels and trigger scoring (configuration section <c>TriggerEval</c>; DESIGN.md §8).</summary>
public sealed class TriggerEvalOptions
{
    /// <summary>H, base-policy steps rolled forward from a restored state to decide a label. Default 10 (1 s at 10 Hz).</summary>
    [Range(1, 1000)]
    public int Horizon { get; set; } = 10;

    /// <summary>A step is "intervention needed" unless Φ after H steps exceeds Φ now by more than this. Default 0.01.</summary>
    [Range(0.0, 1.0)]
    public double MinImprovement { get; set; } = 0.01;

    /// <summary>
    /// N, counterfactual rollouts per label (independent action noise); the step is "needed" unless a majority improve.
    /// Default 5: one sample of a policy with action noise 0.25 flips the label of a marginal step at random, which
    /// fragments events and caps every trigger's F1 (docs/critic.md). 1 gives the single-sample label.
    /// </summary>
    [Range(1, 101)]
    public int LabelRollouts { get; set; } = 5;

    /// <summary>
    /// Whether each counterfactual rollout draws the base policy's remaining lapse schedule afresh, given what has
    /// happened so far (whether and when a lapse starts, whether a running one is permanent and when it ends), as it
    /// draws its action noise afresh. Default true. false keeps the episode's own schedule (the earlier labels): a label
    /// then knows whether a running lapse ends within H steps, which nothing observed up to step t can tell, and an
    /// event's start or end is decided by the episode's dice rather than by the state (docs/critic.md).
    /// </summary>
    public bool RedrawLapseSchedule { get; set; } = true;

    /// <summary>
    /// Whether the trigger episodes of <c>train critic</c> are labelled with all N rollouts of every step, keeping the
    /// fraction that improves (<see cref="RolloutEpisode.LabelOdds"/>), so that the gain head is fitted on those odds
    /// rather than on their majority bit. The labels are the same; labelling runs all N rollouts instead of stopping
    /// at the majority. Evaluation episodes never need the odds. Default false.
    /// </summary>
    public bool LabelOdds { get; set; }

    /// <summary>Label runs separated by at most this many unlabelled steps are one event. Default 2.</summary>
    [Range(0, 1000)]
    public int MergeGap { get; set; } = 2;

    /// <summary>Label runs shorter than this are not events. Default 3.</summary>
    [Range(1, 1000)]
    public int MinEventSteps { get; set; } = 3;

    /// <summary>A firing up to this many steps before an event starts still matches it. Default 3.</summary>
    [Range(0, 1000)]
    public int EarlyTolerance { get; set; } = 3;

    /// <summary>Scripted-expert demonstrations for critic training. Default 100.</summary>
    [Range(0, 100_000)]
    public int ExpertEpisodes { get; set; } = 100;

    /// <summary>Base-policy episodes (with failures) for critic training. Default 1000 (the critic overfits a few hundred episodes; collection is cheap and cached).</summary>
    [Range(0, 100_000)]
    public int BaseEpisodes { get; set; } = 1000;

    /// <summary>Intervention episodes (base policy, then expert takeover) for critic training. Default 100.</summary>
    [Range(0, 100_000)]
    public int InterventionEpisodes { get; set; } = 100;

    /// <summary>Labelled base-policy episodes (separate seeds) for training the trigger heads and tuning thresholds. Default 600.</summary>
    [Range(1, 100_000)]
    public int TriggerEpisodes { get; set; } = 600;

    /// <summary>
    /// Fraction of the trigger episodes (the last ones) held out from fitting the trigger heads and the failure
    /// classifier; every threshold, the value threshold's too, is tuned for event-level F1 on them. Default 0.2. With 0
    /// thresholds are tuned on the fitting episodes themselves, which favours nothing but flatters models that memorise
    /// them: the failure classifier's tuned threshold then generalised worst (push F1 0.59 against 0.67; docs/critic.md).
    /// </summary>
    [Range(0.0, 0.9)]
    public double ThresholdValidation { get; set; } = 0.2;

    /// <summary>
    /// K ≥ 2 cross-fits the learned heads (full and no-future) over all trigger episodes: member k of each head's
    /// ensemble is fitted on the episodes outside fold k and scores fold k, and the heads' thresholds are tuned on
    /// those out-of-fold scores of every episode instead of the <see cref="ThresholdValidation"/> share alone (the
    /// gain head's out-of-fold folds then span all trigger episodes too). The saved head is the ensemble of the K
    /// members. The failure classifier and the value threshold keep the hold-out. Default 0 (hold-out for all).
    /// </summary>
    [Range(0, 20)]
    public int HeadFolds { get; set; }

    /// <summary>How many of <paramref name="count"/> trigger episodes fit the heads (the rest tune thresholds; all when <see cref="ThresholdValidation"/> is 0).</summary>
    public int FitEpisodes(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (ThresholdValidation <= 0) return count;
        if (count < 2) throw new ArgumentException($"Tuning thresholds on held-out episodes needs at least 2 trigger episodes, got {count}.", nameof(count));
        return Math.Clamp(count - (int)Math.Round(count * ThresholdValidation), 1, count - 1);
    }

    public TriggerScoring NewScoring() => new() { MergeGap = MergeGap, MinEventSteps = MinEventSteps, EarlyTolerance = EarlyTolerance };
}

/// <summary>Runs triggers over recorded per-step streams and scores them against labels.</summary>
public static class TriggerEvaluation
{
    /// <summary>Steps at which <paramref name="trigger"/> fires on <paramref name="stream"/> (reset first).</summary>
    public static List<int> Firings(IRiskTrigger trigger, IReadOnlyList<float> stream)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        trigger.Reset();
        var fired = new List<int>();
        for (var t = 0; t < stream.Count; t++)
            if (trigger.Update(stream[t]) != TriggerReason.None) fired.Add(t);
        return fired;
    }

    public static TriggerScoring Score(Func<IRiskTrigger> make, IEnumerable<(IReadOnlyList<float> Stream, IReadOnlyList<bool> Labels)> episodes, TriggerEvalOptions options)
    {
        var s = options.NewScoring();
        foreach (var (stream, labels) in episodes)
        {
            if (stream.Count != labels.Count) throw new ArgumentException($"Stream has {stream.Count} steps but labels {labels.Count}.", nameof(episodes));
            s.Add(labels, Firings(make(), stream));
        }
        return s;
    }

    /// <summary>The threshold from <paramref name="grid"/> with the best event-level F1 (first of ties).</summary>
    public static (double Threshold, double F1) Tune(Func<double, IRiskTrigger> make, IReadOnlyList<(IReadOnlyList<float> Stream, IReadOnlyList<bool> Labels)> episodes, IEnumerable<double> grid, TriggerEvalOptions options)
    {
        var best = (Threshold: double.NaN, F1: -1.0);
        foreach (var th in grid)
        {
            var f1 = Score(() => make(th), episodes, options).F1;
            if (f1 > best.F1) best = (th, f1);
        }
        return best;
    }

    public static IEnumerable<double> Grid(double lo, double hi, double step)
    {
        for (var v = lo; v <= hi + 1e-9; v += step) yield return Math.Round(v, 6);
    }
}
