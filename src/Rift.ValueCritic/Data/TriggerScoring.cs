namespace Rift.ValueCritic;

/// <summary>
/// Event-level matching of trigger firings to counterfactual labels (the definition behind trigger/precision,
/// trigger/recall and trigger/f1; docs/critic.md):
/// <list type="number">
/// <item>Needed events: maximal runs of steps labelled "intervention needed"; runs separated by at most
/// <see cref="MergeGap"/> unlabelled steps are merged; runs shorter than <see cref="MinEventSteps"/> are dropped.</item>
/// <item>A firing at step f is a true positive when some event [s, e] has s − <see cref="EarlyTolerance"/> ≤ f ≤ e
/// (during the event, or a little before it), else a false positive. Repeated firings inside one event (after the
/// cooldown, while the rollout is still stuck) are all true positives.</item>
/// <item>An event is detected when at least one firing matches it. precision = TP firings / firings;
/// recall = detected events / events; F1 = 2PR/(P+R) (0 when both are 0).</item>
/// </list>
/// Counts are summed over all evaluation episodes before the ratios are taken.
/// </summary>
public sealed class TriggerScoring
{
    public int MergeGap { get; init; } = 2;
    public int MinEventSteps { get; init; } = 3;
    public int EarlyTolerance { get; init; } = 3;

    public int Firings { get; private set; }
    public int TruePositiveFirings { get; private set; }
    public int Events { get; private set; }
    public int DetectedEvents { get; private set; }

    public double Precision => Firings == 0 ? 0 : (double)TruePositiveFirings / Firings;
    public double Recall => Events == 0 ? 0 : (double)DetectedEvents / Events;
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);

    /// <summary>The needed events of one episode's labels as inclusive [start, end] step ranges.</summary>
    public List<(int Start, int End)> EventsOf(IReadOnlyList<bool> labels)
    {
        var runs = new List<(int, int)>();
        for (var t = 0; t < labels.Count; t++)
        {
            if (!labels[t]) continue;
            var s = t;
            while (t + 1 < labels.Count && labels[t + 1]) t++;
            if (runs.Count > 0 && s - runs[^1].Item2 - 1 <= MergeGap) runs[^1] = (runs[^1].Item1, t);
            else runs.Add((s, t));
        }
        runs.RemoveAll(r => r.Item2 - r.Item1 + 1 < MinEventSteps);
        return runs;
    }

    /// <summary>Adds one episode: its labels and the steps at which the trigger fired.</summary>
    public void Add(IReadOnlyList<bool> labels, IReadOnlyList<int> firings)
    {
        var events = EventsOf(labels);
        var hit = new bool[events.Count];
        foreach (var f in firings)
        {
            Firings++;
            for (var i = 0; i < events.Count; i++)
            {
                if (f >= events[i].Start - EarlyTolerance && f <= events[i].End)
                {
                    TruePositiveFirings++;
                    hit[i] = true;
                    break;
                }
            }
        }
        Events += events.Count;
        DetectedEvents += hit.Count(h => h);
    }
}
