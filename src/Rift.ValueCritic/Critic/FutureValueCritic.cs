using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Rift.Nn;

namespace Rift.ValueCritic;

/// <summary>Future-conditioned value critic (configuration section <c>Critic</c>).</summary>
public sealed class CriticOptions
{
    /// <summary>k, how many steps ahead the predictor looks: P(z_t, a_t) → ẑ_{t+k}. Default 3.</summary>
    [Range(1, 64)]
    public int Horizon { get; set; } = 3;

    /// <summary>
    /// H_g, steps over which the gain head G([ẑ_{t+k}, n(z_t), a_t]) predicts the proxy value's change, v_{t+H_g} − v_t.
    /// Default 10, the counterfactual label horizon (TriggerEval:Horizon): "progress over the next H steps".
    /// </summary>
    [Range(1, 1000)]
    public int GainHorizon { get; set; } = 10;

    /// <summary>
    /// What G predicts: <c>Improves</c> (default), P(v_{t+H_g} − v_t &gt; <see cref="GainMinImprovement"/>), the
    /// probability behind the counterfactual label; or <c>Change</c>, v_{t+H_g} − v_t. Measured on push (docs/critic.md):
    /// trigger F1 0.875 with <c>Improves</c>, 0.836 with <c>Change</c>.
    /// </summary>
    public GainTarget GainTarget { get; set; } = GainTarget.Improves;

    /// <summary>δ of <see cref="GainTarget.Improves"/>. Default 0.01, the labels' TriggerEval:MinImprovement.</summary>
    [Range(0.0, 1.0)]
    public double GainMinImprovement { get; set; } = 0.01;

    /// <summary>
    /// h, actions the gain head sees: a_t and the h − 1 before it, G([ẑ_{t+k}, n(z_t), a_t, a_{t−h+1..t−1}]). Default 8.
    /// One action says little about what the policy is doing under action noise; a few in a row show a stall (repeated
    /// zero or constant commands) or aimless motion, and whether it persists is what the label horizon asks. With G fitted
    /// on the labels (<see cref="GainLabelSteps"/>) 8 actions beat 4: how long a lapse has lasted changes its odds of
    /// lasting (docs/critic.md). 1 gives G([ẑ, n(z_t), a_t]).
    /// </summary>
    [Range(1, 64)]
    public int ActionHistory { get; set; } = 8;

    /// <summary>
    /// Adam steps that fine-tune the gain head G on the counterfactual labels of the trigger's fitting episodes after the
    /// critic is trained (<c>CriticTrainer.FitGainToLabels</c>; <c>train critic</c> only), so that G estimates the label's
    /// own odds rather than one realised outcome per step. The trigger head is then fitted on out-of-fold G
    /// (<see cref="GainLabelFolds"/>), never on a G that saw its episodes' labels. Default 2000; 0 keeps the
    /// realised-outcome G. Measured with 8 actions (docs/critic.md, 5 seeds): trigger F1 pick-place 0.890 → 0.906,
    /// push 0.860 → 0.865, peg-insert 0.883 → 0.880.
    /// </summary>
    [Range(0, 1_000_000)]
    public int GainLabelSteps { get; set; } = 2000;

    /// <summary>
    /// Folds of the cross-fitting behind <see cref="GainLabelSteps"/>: the trigger head reads, on each fold of its fitting
    /// episodes, the G fine-tuned on the other folds. Default 2.
    /// </summary>
    [Range(2, 100)]
    public int GainLabelFolds { get; set; } = 2;

    /// <summary>
    /// Fine-tunes of G on the labels (each <see cref="GainLabelSteps"/> steps from the same trained G, with its own
    /// minibatch stream) whose weights are averaged into the G that is used (a "model soup": fine-tunes of one start
    /// stay in one basin, so their mean is a G with less minibatch noise at no cost per step). Default 1: 3 moved the
    /// trigger's F1 by +0.001 (pick-place) and +0.003 (peg-insert), inside the seeds' spread (docs/critic.md).
    /// </summary>
    [Range(1, 32)]
    public int GainLabelSoup { get; set; } = 1;

    /// <summary>Width of the predictor's two hidden layers. Default 128.</summary>
    [Range(8, 4096)]
    public int PredictorHidden { get; set; } = 128;

    /// <summary>Width of each value head's two hidden layers. Default 64.</summary>
    [Range(4, 4096)]
    public int ValueHidden { get; set; } = 64;

    /// <summary>Adam learning rate. Default 1e-3.</summary>
    [Range(1e-6, 1.0)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Gradient updates. Default 2000.</summary>
    [Range(1, 10_000_000)]
    public int Steps { get; set; } = 2000;

    /// <summary>Minibatch size. Default 256.</summary>
    [Range(1, 65536)]
    public int BatchSize { get; set; } = 256;

    /// <summary>
    /// Std of Gaussian noise added to the layer-normalised latents fed to the networks during training (regularises
    /// heads that otherwise memorise their episodes; targets stay clean). Default 1.0, what the committed models use;
    /// online runs set 0.3 (OnlineDefaults), the value their critic was tuned with.
    /// </summary>
    [Range(0.0, 10.0)]
    public double LatentNoise { get; set; } = 1.0;

    /// <summary>
    /// Proxy value the heads regress onto: <c>Progress</c> (oracle Φ(s_t), a training target only; default) or
    /// <c>TimeFraction</c> (t/T on successes, 0 on failures).
    /// </summary>
    public ProxyValue Proxy { get; set; } = ProxyValue.Progress;

    /// <summary>Adam L2 weight decay. Default 1e-4.</summary>
    [Range(0.0, 1.0)]
    public double WeightDecay { get; set; } = 1e-4;

    /// <summary>Weight of the value losses against the latent-prediction loss. Default 1.</summary>
    [Range(0.0, 1000.0)]
    public double ValueLossWeight { get; set; } = 1.0;
}

/// <summary>
/// UniIntervene's future-conditioned critic. The input embedding z is layer-normalised (no affine) so any encoder
/// (built-in or robot-side) works at the same scale. Predictor: ẑ_{t+k} = n(z_t) + P([n(z_t), a_t]) (residual MLP
/// with LayerNorm); twin value heads V₁, V₂ on ẑ; Q(s, a) = ½(V₁(ẑ) + V₂(ẑ)). A third head V₀(n(z_t)) without
/// future prediction is kept for the "no future" ablation. A gain head G([ẑ, n(z_t), a_t, a_{t−h+1..t−1}]) predicts
/// whether the proxy value rises over the next H_g steps from the predicted future, the current latent and the actions
/// just taken (it needs the predictor, so the ablation has no gain). <see cref="Evaluate"/> and <see cref="EvaluateWithGain"/> are allocation-free.
/// </summary>
public sealed class FutureValueCritic : IValueCritic
{
    private readonly MlpEvaluator _p, _v1, _v2, _v0, _g;
    private readonly float[] _gInput;
    private readonly float[] _input;
    private readonly float[] _delta;
    private readonly float[] _zHat;
    private readonly float[] _out = new float[1];

    public FutureValueCritic(int embeddingSize, int actionSize, CriticOptions options, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (embeddingSize <= 0) throw new ArgumentOutOfRangeException(nameof(embeddingSize), embeddingSize, "Embedding size must be positive.");
        if (actionSize <= 0) throw new ArgumentOutOfRangeException(nameof(actionSize), actionSize, "Action size must be positive.");
        EmbeddingSize = embeddingSize;
        ActionSize = actionSize;
        Horizon = options.Horizon;
        PredictorHidden = options.PredictorHidden;
        ValueHidden = options.ValueHidden;
        Proxy = options.Proxy;
        GainHorizon = options.GainHorizon;
        ActionHistory = options.ActionHistory;
        GainTarget = options.GainTarget;
        GainMinImprovement = options.GainMinImprovement;
        if (ActionHistory < 1) throw new ArgumentOutOfRangeException(nameof(options), ActionHistory, "Critic:ActionHistory must be at least 1.");
        var rng = new Rng(seed);
        Predictor = new Mlp(embeddingSize + actionSize, [options.PredictorHidden, options.PredictorHidden], embeddingSize, rng, layerNorm: true);
        V1 = new Mlp(embeddingSize, [options.ValueHidden, options.ValueHidden], 1, rng, layerNorm: true);
        V2 = new Mlp(embeddingSize, [options.ValueHidden, options.ValueHidden], 1, rng, layerNorm: true);
        V0 = new Mlp(embeddingSize, [options.ValueHidden, options.ValueHidden], 1, rng, layerNorm: true);
        G = new Mlp(2 * embeddingSize + ActionHistory * actionSize, [options.ValueHidden, options.ValueHidden], 1, rng, layerNorm: true);
        Parameters = new ParameterSet().Add("predictor", Predictor).Add("v1", V1).Add("v2", V2).Add("v0", V0).Add("g", G);
        _p = new MlpEvaluator(Predictor);
        _v1 = new MlpEvaluator(V1);
        _v2 = new MlpEvaluator(V2);
        _v0 = new MlpEvaluator(V0);
        _g = new MlpEvaluator(G);
        _gInput = new float[2 * embeddingSize + ActionHistory * actionSize];
        _input = new float[embeddingSize + actionSize];
        _delta = new float[embeddingSize];
        _zHat = new float[embeddingSize];
    }

    public int EmbeddingSize { get; }
    public int ActionSize { get; }
    public int Horizon { get; }
    public int PredictorHidden { get; }
    public int ValueHidden { get; }

    /// <summary>H_g, the horizon of the gain head's target.</summary>
    public int GainHorizon { get; }

    /// <summary>What the gain head predicts (see <see cref="CriticOptions.GainTarget"/>).</summary>
    public GainTarget GainTarget { get; }

    /// <summary>δ of <see cref="GainTarget.Improves"/>.</summary>
    public double GainMinImprovement { get; }

    /// <summary>h, the actions the gain head sees (a_t and the h − 1 before it).</summary>
    public int ActionHistory { get; }

    /// <summary>Length of the previous-actions block of <see cref="EvaluateWithGain(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>: (h − 1)·|A|.</summary>
    public int PreviousActionsLength => (ActionHistory - 1) * ActionSize;

    /// <summary>The proxy value the heads were trained on (what <c>critic/q_loss</c> compares against).</summary>
    public ProxyValue Proxy { get; }

    public Mlp Predictor { get; }
    public Mlp V1 { get; }
    public Mlp V2 { get; }

    /// <summary>Value of the current latent alone (ablation "w/o future prediction").</summary>
    public Mlp V0 { get; }

    /// <summary>Gain head: G([ẑ_{t+k}, n(z_t), a_t, a_{t−h+1..t−1}]) ≈ P(v_{t+H_g} − v_t &gt; δ) (or the change itself, see <see cref="GainTarget"/>).</summary>
    public Mlp G { get; }

    /// <summary>All weights: <c>predictor.*</c>, <c>v1.*</c>, <c>v2.*</c>, <c>v0.*</c>, <c>g.*</c>.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>Q(s, a) = V(P(z, a)), the mean of the twin heads.</summary>
    public float Evaluate(ReadOnlySpan<float> z, ReadOnlySpan<float> action)
    {
        PredictFuture(z, action, _zHat);
        _v1.Forward(_zHat, _out);
        var q = _out[0];
        _v2.Forward(_zHat, _out);
        return 0.5f * (q + _out[0]);
    }

    /// <summary>
    /// Q together with the gain head's output G: by default (<see cref="GainTarget.Improves"/>) the probability that the
    /// proxy value rises by more than δ over the next H_g steps — the future-conditioned signal that separates
    /// "progressing" from "stuck" or "losing ground" at the same value level; with <see cref="GainTarget.Change"/> the
    /// expected change v_{t+H_g} − v_t. <paramref name="previousActions"/> holds a_{t−h+1}, …, a_{t−1} (oldest first,
    /// (h − 1)·|A| values; see <see cref="FillPreviousActions"/>). Allocation-free.
    /// </summary>
    public (float Q, float Gain) EvaluateWithGain(ReadOnlySpan<float> z, ReadOnlySpan<float> action, ReadOnlySpan<float> previousActions)
    {
        if (previousActions.Length != PreviousActionsLength)
            throw new ArgumentException($"The gain head sees {ActionHistory} actions: pass the {ActionHistory - 1} previous ones ({PreviousActionsLength} values), got {previousActions.Length} values.", nameof(previousActions));
        previousActions.CopyTo(_gInput.AsSpan(2 * EmbeddingSize + ActionSize));
        return EvaluateGainInput(z, action);
    }

    /// <summary>
    /// <see cref="EvaluateWithGain(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/> at the first step
    /// of a stream, where no earlier actions exist: the history is a_t repeated (as <see cref="FillPreviousActions"/> pads).
    /// </summary>
    public (float Q, float Gain) EvaluateWithGain(ReadOnlySpan<float> z, ReadOnlySpan<float> action)
    {
        if (action.Length != ActionSize) throw new ArgumentException($"Action has {action.Length} components, the critic expects {ActionSize}.", nameof(action));
        var previous = _gInput.AsSpan(2 * EmbeddingSize + ActionSize);
        for (var j = 0; j < ActionHistory - 1; j++) action.CopyTo(previous.Slice(j * ActionSize, ActionSize));
        return EvaluateGainInput(z, action);
    }

    /// <summary>Q, then G on [ẑ, n(z_t), a_t] followed by the previous actions already in the gain input.</summary>
    private (float Q, float Gain) EvaluateGainInput(ReadOnlySpan<float> z, ReadOnlySpan<float> action)
    {
        var q = Evaluate(z, action);
        _zHat.CopyTo(_gInput.AsSpan(0, EmbeddingSize));
        _input.CopyTo(_gInput.AsSpan(EmbeddingSize)); // [n(z_t), a_t], left there by PredictFuture
        _g.Forward(_gInput, _out);
        return (q, _out[0]);
    }

    /// <summary>
    /// Writes a_{t−h+1}, …, a_{t−1} of a recorded action sequence into <paramref name="previous"/> (oldest first);
    /// steps before the first are padded with a_0.
    /// </summary>
    public static void FillPreviousActions(IReadOnlyList<float[]> actions, int t, int actionHistory, Span<float> previous)
    {
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentOutOfRangeException.ThrowIfLessThan(actionHistory, 1);
        if ((uint)t >= (uint)actions.Count) throw new ArgumentOutOfRangeException(nameof(t), t, $"Step outside the {actions.Count} recorded actions.");
        var na = actions[t].Length;
        if (previous.Length != (actionHistory - 1) * na) throw new ArgumentException($"Expected {(actionHistory - 1) * na} values for {actionHistory - 1} previous actions, got {previous.Length}.", nameof(previous));
        for (var j = 0; j < actionHistory - 1; j++)
            actions[Math.Max(0, t - actionHistory + 1 + j)].CopyTo(previous.Slice(j * na, na));
    }

    /// <summary>ẑ_{t+k} in the layer-normalised latent space.</summary>
    public void PredictFuture(ReadOnlySpan<float> z, ReadOnlySpan<float> action, Span<float> zHat)
    {
        CheckEmbedding(z);
        if (action.Length != ActionSize) throw new ArgumentException($"Action has {action.Length} components, the critic expects {ActionSize}.", nameof(action));
        var zn = _input.AsSpan(0, EmbeddingSize);
        z.CopyTo(zn);
        MlpEvaluator.Norm(zn);
        action.CopyTo(_input.AsSpan(EmbeddingSize));
        _p.Forward(_input, _delta);
        System.Numerics.Tensors.TensorPrimitives.Add(zn, _delta, zHat);
    }

    /// <summary>V₀(z_t): the value of the current latent without future prediction (for the ablation).</summary>
    public float EvaluateNoFuture(ReadOnlySpan<float> z)
    {
        CheckEmbedding(z);
        var zn = _input.AsSpan(0, EmbeddingSize);
        z.CopyTo(zn);
        MlpEvaluator.Norm(zn);
        _v0.Forward(zn, _out);
        return _out[0];
    }

    private void CheckEmbedding(ReadOnlySpan<float> z)
    {
        if (z.Length != EmbeddingSize)
            throw new ArgumentException($"Embedding has {z.Length} values but the critic was built for {EmbeddingSize}; the encoder (or Observation.Embedding) and the critic weights must agree.", nameof(z));
    }

    public void Save(string path, IReadOnlyDictionary<string, string>? extra = null)
    {
        var meta = new Dictionary<string, string>
        {
            ["format"] = "rift.future_value_critic.v1",
            ["embedding_size"] = EmbeddingSize.ToString(CultureInfo.InvariantCulture),
            ["action_size"] = ActionSize.ToString(CultureInfo.InvariantCulture),
            ["horizon"] = Horizon.ToString(CultureInfo.InvariantCulture),
            ["predictor_hidden"] = PredictorHidden.ToString(CultureInfo.InvariantCulture),
            ["value_hidden"] = ValueHidden.ToString(CultureInfo.InvariantCulture),
            ["proxy"] = Proxy.ToString(),
            ["gain_horizon"] = GainHorizon.ToString(CultureInfo.InvariantCulture),
            ["action_history"] = ActionHistory.ToString(CultureInfo.InvariantCulture),
            ["gain_target"] = GainTarget.ToString(),
            ["gain_min_improvement"] = GainMinImprovement.ToString("R", CultureInfo.InvariantCulture),
        };
        if (extra is not null) foreach (var (k, v) in extra) meta[k] = v;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Parameters.Save(path, meta);
    }

    /// <summary>An independent copy: the same architecture and weights (e.g. to fine-tune one head and keep the original).</summary>
    public FutureValueCritic Clone()
    {
        var c = new FutureValueCritic(EmbeddingSize, ActionSize, new CriticOptions
        {
            Horizon = Horizon, PredictorHidden = PredictorHidden, ValueHidden = ValueHidden, Proxy = Proxy, GainHorizon = GainHorizon,
            ActionHistory = ActionHistory, GainTarget = GainTarget, GainMinImprovement = GainMinImprovement,
        });
        c.Parameters.CopyFrom(Parameters);
        return c;
    }

    /// <summary>Loads a critic written by <c>rift train critic</c> (architecture from the file's metadata).</summary>
    public static FutureValueCritic Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Critic weights not found: {path} (train them with `rift train critic`).", path);
        var meta = SafeTensors.ReadMetadata(path);
        int Get(string key) => meta.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture)
            : throw new InvalidDataException($"{path}: metadata key '{key}' missing; not a Rift critic file.");
        var o = new CriticOptions
        {
            Horizon = Get("horizon"), PredictorHidden = Get("predictor_hidden"), ValueHidden = Get("value_hidden"),
            Proxy = meta.TryGetValue("proxy", out var px) ? Enum.Parse<ProxyValue>(px) : ProxyValue.TimeFraction,
            GainHorizon = Get("gain_horizon"),
            ActionHistory = meta.ContainsKey("action_history") ? Get("action_history") : 1, // files written before the option saw a_t only
            GainTarget = meta.TryGetValue("gain_target", out var gt) ? Enum.Parse<GainTarget>(gt) : GainTarget.Change,
            GainMinImprovement = meta.TryGetValue("gain_min_improvement", out var gm) ? double.Parse(gm, CultureInfo.InvariantCulture) : 0.01,
        };
        var c = new FutureValueCritic(Get("embedding_size"), Get("action_size"), o);
        c.Parameters.Load(path);
        return c;
    }

    /// <summary>The default weights for <paramref name="task"/>: <c>models/critic/{task}.safetensors</c>.</summary>
    public static string DefaultPath(string task) => Path.Combine(RiftPaths.Models, "critic", task + ".safetensors");
}
