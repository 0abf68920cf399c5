namespace Rift.ValueCritic;

/// <summary>Where an episode's actions came from.</summary>
public enum RolloutKind : byte
{
    /// <summary>Scripted-expert demonstration.</summary>
    Expert = 0,
    /// <summary>The weaker base policy (with its failures).</summary>
    Base = 1,
    /// <summary>Base policy until a (simulated) supervisor takes over with the expert: an intervention segment.</summary>
    Intervention = 2,
}

/// <summary>Which progress-aligned proxy value the critic's value heads regress onto.</summary>
public enum ProxyValue : byte
{
    /// <summary>t/T on successful episodes, 0 on failed ones, the supervisor's segment as a fresh demonstration (<see cref="RolloutEpisode.Proxy"/>).</summary>
    TimeFraction = 0,
    /// <summary>The oracle progress Φ(s_t), 1 at success (<see cref="RolloutEpisode.ProgressProxy"/>): a training target only.</summary>
    Progress = 1,
}

/// <summary>What the critic's gain head G predicts over the next H_g steps.</summary>
public enum GainTarget : byte
{
    /// <summary>
    /// Whether the proxy value rises by more than <see cref="CriticOptions.GainMinImprovement"/>: 1 or 0, regressed with a
    /// squared error (Brier score), so G estimates P(v_{t+H_g} − v_t &gt; δ) — the quantity the counterfactual label
    /// thresholds at one half.
    /// </summary>
    Improves = 0,
    /// <summary>The change itself, v_{t+H_g} − v_t (its magnitude in progress phases dominates the loss).</summary>
    Change = 1,
}

/// <summary>
/// One recorded episode for critic/trigger training and evaluation. Step t = 0..T−1 has observation t and action t;
/// index T is the final observation. <see cref="Progress"/> is the oracle Φ (evaluation and labels only).
/// </summary>
public sealed class RolloutEpisode
{
    public required RolloutKind Kind { get; init; }
    public int Seed { get; init; }
    public List<float[]> Actions { get; } = [];

    /// <summary>Embeddings z_0..z_T (empty until encoded).</summary>
    public List<float[]> Embeddings { get; } = [];

    /// <summary>Encoder-input frames 0..T (rgb24 at the encoder side), kept only when requested.</summary>
    public List<byte[]> Frames { get; } = [];

    /// <summary>Oracle progress Φ at observations 0..T.</summary>
    public List<double> Progress { get; } = [];

    public bool Success { get; set; }

    /// <summary>First step controlled by the supervisor (Intervention episodes), else −1.</summary>
    public int InterventionStart { get; set; } = -1;

    /// <summary>Counterfactual "intervention needed" labels per step 0..T−1 (empty until labelled).</summary>
    public List<bool> Labels { get; } = [];

    /// <summary>
    /// Per step 0..T−1, the fraction of the N counterfactual rollouts that improved, when the labeller ran all of them
    /// (<c>TriggerEval:LabelOdds</c>); empty when it stopped as soon as the majority was decided.
    /// </summary>
    public List<float> LabelOdds { get; } = [];

    public int Steps => Actions.Count;

    /// <summary>
    /// Progress-aligned proxy value at observation t (UniIntervene: "t/T along successful episodes, lower along
    /// failures"): t/T on successful episodes; 0 on failed ones; on an intervention episode the supervisor's segment
    /// counts as a fresh successful demonstration from the stuck state, (t − t_i)/(T − t_i), and the steps before it
    /// as failure (0). Unsuccessful intervention episodes are 0 throughout.
    /// </summary>
    public float Proxy(int t)
    {
        var T = Steps;
        if (!Success || T == 0) return 0f;
        if (Kind == RolloutKind.Intervention && InterventionStart >= 0)
            return t < InterventionStart ? 0f : (float)(t - InterventionStart) / Math.Max(1, T - InterventionStart);
        return (float)t / T;
    }

    /// <summary>
    /// Oracle-progress proxy value at observation t: Φ(s_t), 1 once the episode has succeeded. Unlike
    /// <see cref="Proxy"/> it keeps its shape inside failed episodes (progress made, then lost or stalled), so the
    /// value heads, and the predicted gain V(ẑ_{t+k}) − V(z_t), have something to say there. Privileged state used
    /// as a training target only, like the counterfactual labels.
    /// </summary>
    public float ProgressProxy(int t)
    {
        if (t < 0 || t >= Progress.Count) throw new ArgumentOutOfRangeException(nameof(t), t, $"Episode has {Progress.Count} progress values.");
        return Success && t == Steps ? 1f : (float)Progress[t];
    }

    /// <summary>The proxy value of <paramref name="kind"/> at observation t.</summary>
    public float ProxyOf(ProxyValue kind, int t) => kind == ProxyValue.Progress ? ProgressProxy(t) : Proxy(t);
}
