using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Rift.Nn;

namespace Rift.ValueCritic;

/// <summary>
/// Learned variant of the temporal value-risk trigger (configuration section <c>LearnedTrigger</c>): a small head
/// over window features of the last K values, trained with focal loss on intervention labels (UniIntervene
/// reference: intervention head, focal loss α 0.75, γ 2).
/// </summary>
public sealed class LearnedTriggerOptions
{
    /// <summary>K, values in the window. Default 8 (as RiskTrigger).</summary>
    [Range(2, 256)]
    public int WindowSize { get; set; } = 8;

    /// <summary>Width of the head's two hidden layers. Default 16.</summary>
    [Range(2, 1024)]
    public int Hidden { get; set; } = 16;

    /// <summary>
    /// The full trigger's head also sees the window of the current-latent value V₀(z_t), so its features are those of
    /// the no-future head plus the predictor's (Q and predicted gain windows). Default true.
    /// </summary>
    public bool UseCurrentValue { get; set; } = true;

    /// <summary>Fires when the predicted probability is at least this; `rift train critic` tunes it on training episodes. Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double Threshold { get; set; } = 0.5;

    /// <summary>Updates after firing during which it cannot fire again. Default 8 (as RiskTrigger).</summary>
    [Range(0, 100_000)]
    public int CooldownSteps { get; set; } = 8;

    /// <summary>Focal-loss α (weight of positives). Default 0.75 (UniIntervene reference).</summary>
    [Range(0.0, 1.0)]
    public double FocalAlpha { get; set; } = 0.75;

    /// <summary>Focal-loss γ. Default 2 (UniIntervene reference).</summary>
    [Range(0.0, 10.0)]
    public double FocalGamma { get; set; } = 2.0;

    /// <summary>Training steps (full-batch Adam). Default 1000.</summary>
    [Range(1, 1_000_000)]
    public int Steps { get; set; } = 1000;

    /// <summary>Adam L2 weight decay (the head is small and the labelled set too). Default 1e-3.</summary>
    [Range(0.0, 1.0)]
    public double WeightDecay { get; set; } = 1e-3;

    /// <summary>Adam learning rate. Default 3e-3.</summary>
    [Range(1e-6, 1.0)]
    public double LearningRate { get; set; } = 3e-3;

    /// <summary>
    /// Heads per trigger, each initialised independently and trained on the same data, whose probabilities are
    /// averaged (<see cref="WindowTriggerHead"/>). Applies to the full and the no-future head alike. Default 5: on
    /// pick-place a single full head's F1 moved by 0.013 on average (up to 0.029) with its initialisation alone, an
    /// ensemble of 5 by 0.008 (up to 0.020; docs/critic.md).
    /// </summary>
    [Range(1, 64)]
    public int Members { get; set; } = 5;
}

/// <summary>
/// The trigger head: an MLP on window features of the last K values (oldest first, left-padded with the oldest
/// value while fewer than K are in): the K values, their K−1 one-step differences, the least-squares slope, the
/// range (max − min) and the fill fraction n/K; with <see cref="UsesGain"/>, also the K outputs of the critic's gain head
/// G (<see cref="FutureValueCritic.EvaluateWithGain(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float})"/>); with <see cref="UsesCurrentValue"/>, also the
/// window block (values, differences, slope, range) of the current-latent value V₀(z_t). A head on Q with gains and
/// V₀ sees exactly the features of the no-future head on V₀ plus those that need the predictor.
/// </summary>
public sealed class WindowTriggerHead
{
    private readonly MlpEvaluator[] _evals;
    private readonly float[] _out = new float[1];

    /// <param name="members">
    /// Independently initialised MLPs trained on the same data whose probabilities are averaged (an ensemble). One
    /// full-batch fit is deterministic, but which of its nearly equally good solutions it reaches depends on the
    /// initialisation; averaging removes most of that variance. Member 0 is initialised as a single head is.
    /// </param>
    public WindowTriggerHead(int windowSize, int hidden, int seed = 0, bool usesGain = false, bool usesCurrentValue = false, int members = 1)
    {
        if (windowSize < 2) throw new ArgumentOutOfRangeException(nameof(windowSize), windowSize, "Window must hold at least 2 values.");
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        WindowSize = windowSize;
        UsesGain = usesGain;
        UsesCurrentValue = usesCurrentValue;
        var rng = new Rng(seed);
        Networks = [.. Enumerable.Range(0, members).Select(_ => new Mlp(FeatureCount(windowSize, usesGain, usesCurrentValue), [hidden, hidden], 1, rng))];
        _evals = [.. Networks.Select(n => new MlpEvaluator(n))];
        if (members == 1) Parameters = Networks[0]; // a single head keeps its unprefixed tensor names
        else
        {
            var set = new ParameterSet();
            for (var i = 0; i < members; i++) set.Add("m" + i.ToString(CultureInfo.InvariantCulture), Networks[i]);
            Parameters = set;
        }
    }

    public int WindowSize { get; }

    /// <summary>Whether the features include the window of predicted value gains.</summary>
    public bool UsesGain { get; }

    /// <summary>Whether the features include the window block of the current-latent value V₀(z_t).</summary>
    public bool UsesCurrentValue { get; }

    /// <summary>The ensemble's members (one for a single head).</summary>
    public IReadOnlyList<Mlp> Networks { get; }

    /// <summary>All members' parameters (unprefixed for a single head, <c>m{i}.</c>-prefixed otherwise), for saving and loading.</summary>
    public IModule Parameters { get; }

    public int Hidden => Networks[0].Layers[0].OutFeatures;

    public static int FeatureCount(int windowSize, bool usesGain = false, bool usesCurrentValue = false) =>
        2 * windowSize + 2 + (usesGain ? windowSize : 0) + (usesCurrentValue ? 2 * windowSize + 1 : 0);

    /// <summary>Features of a window (oldest first, 1..K values; <paramref name="gains"/> aligned with it, or empty).</summary>
    public static void Features(ReadOnlySpan<float> window, int windowSize, Span<float> features) => Features(window, [], windowSize, features);

    /// <summary>Features of a window of values and, optionally, their predicted gains.</summary>
    public static void Features(ReadOnlySpan<float> window, ReadOnlySpan<float> gains, int windowSize, Span<float> features) =>
        Features(window, gains, [], windowSize, features);

    /// <summary>Features of a window of values and, optionally, their predicted gains and current-latent values V₀(z) (each aligned with it, or empty).</summary>
    public static void Features(ReadOnlySpan<float> window, ReadOnlySpan<float> gains, ReadOnlySpan<float> currentValues, int windowSize, Span<float> features)
    {
        var n = window.Length;
        if (n < 1 || n > windowSize) throw new ArgumentException($"Window holds {n} values, expected 1..{windowSize}.", nameof(window));
        var usesGain = gains.Length > 0;
        var usesCurrent = currentValues.Length > 0;
        if (usesGain && gains.Length != n) throw new ArgumentException($"Window holds {n} values but {gains.Length} gains.", nameof(gains));
        if (usesCurrent && currentValues.Length != n) throw new ArgumentException($"Window holds {n} values but {currentValues.Length} current values.", nameof(currentValues));
        var count = FeatureCount(windowSize, usesGain, usesCurrent);
        if (features.Length != count) throw new ArgumentException($"Feature buffer has {features.Length} values, expected {count}.", nameof(features));
        Block(window, windowSize, features);
        features[2 * windowSize + 1] = (float)n / windowSize;
        var pad = windowSize - n;
        if (usesGain)
            for (var i = 0; i < windowSize; i++) features[2 * windowSize + 2 + i] = 10f * gains[Math.Max(0, i - pad)];
        if (usesCurrent) Block(currentValues, windowSize, features[(2 * windowSize + 2 + (usesGain ? windowSize : 0))..]);
    }

    /// <summary>K values (left-padded), K − 1 scaled differences, scaled least-squares slope and range: 2K + 1 features.</summary>
    private static void Block(ReadOnlySpan<float> window, int windowSize, Span<float> features)
    {
        var n = window.Length;
        var pad = windowSize - n;
        float min = float.MaxValue, max = float.MinValue;
        for (var i = 0; i < windowSize; i++)
        {
            var v = window[Math.Max(0, i - pad)];
            features[i] = v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        for (var i = 1; i < windowSize; i++) features[windowSize + i - 1] = 10f * (features[i] - features[i - 1]);
        float meanX = (windowSize - 1) / 2f, meanY = 0, sxy = 0, sxx = 0;
        for (var i = 0; i < windowSize; i++) meanY += features[i];
        meanY /= windowSize;
        for (var i = 0; i < windowSize; i++)
        {
            sxy += (i - meanX) * (features[i] - meanY);
            sxx += (i - meanX) * (i - meanX);
        }
        features[2 * windowSize - 1] = 10f * sxy / sxx;
        features[2 * windowSize] = 10f * (max - min);
    }

    /// <summary>P(intervention needed | features).</summary>
    public float Probability(ReadOnlySpan<float> features)
    {
        var p = 0f;
        for (var i = 0; i < _evals.Length; i++) p += MemberProbability(i, features);
        return p / _evals.Length;
    }

    /// <summary>P(intervention needed | features) according to member <paramref name="member"/> alone.</summary>
    public float MemberProbability(int member, ReadOnlySpan<float> features)
    {
        _evals[member].Forward(features, _out);
        return 1f / (1f + MathF.Exp(-_out[0]));
    }

    /// <summary>Full-batch training of every member with sigmoid focal loss (α, γ from the options); returns the members' mean final loss.</summary>
    public float Train(IReadOnlyList<float[]> features, IReadOnlyList<bool> labels, LearnedTriggerOptions options)
    {
        var (x, y) = Batch(features, labels, options);
        var total = 0f;
        foreach (var network in Networks) total += Fit(network, x, y, options);
        return total / Networks.Count;
    }

    /// <summary>
    /// Full-batch training of member <paramref name="member"/> alone (sigmoid focal loss); returns its final loss.
    /// Members trained on different folds of the data make a cross-fitted ensemble.
    /// </summary>
    public float TrainMember(int member, IReadOnlyList<float[]> features, IReadOnlyList<bool> labels, LearnedTriggerOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(member);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(member, Networks.Count);
        var (x, y) = Batch(features, labels, options);
        return Fit(Networks[member], x, y, options);
    }

    /// <summary>The training batch: one row of features and one 1/0 target per sample.</summary>
    private (Tensor X, Tensor Y) Batch(IReadOnlyList<float[]> features, IReadOnlyList<bool> labels, LearnedTriggerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (features.Count != labels.Count) throw new ArgumentException($"{features.Count} feature rows but {labels.Count} labels.", nameof(labels));
        if (features.Count == 0) throw new ArgumentException("No trigger training samples.", nameof(features));
        var f = FeatureCount(WindowSize, UsesGain, UsesCurrentValue);
        var x = new Tensor([features.Count, f]);
        var y = new Tensor([features.Count, 1]);
        for (var i = 0; i < features.Count; i++)
        {
            features[i].CopyTo(x.Span.Slice(i * f, f));
            y.Span[i] = labels[i] ? 1f : 0f;
        }
        return (x, y);
    }

    private static float Fit(Mlp network, Tensor x, Tensor y, LearnedTriggerOptions options)
    {
        var opt = new Adam(network.Parameters(), lr: (float)options.LearningRate, weightDecay: (float)options.WeightDecay);
        var g = new Graph();
        var last = 0f;
        for (var step = 0; step < options.Steps; step++)
        {
            g.Reset();
            var loss = g.FocalLoss(network.Forward(g, x), y, (float)options.FocalAlpha, (float)options.FocalGamma);
            opt.ZeroGrad();
            g.Backward(loss);
            opt.Step();
            last = loss.Item();
        }
        return last;
    }
}

/// <summary>
/// The learned temporal value-risk trigger: keeps the last K values, fires with <see cref="TriggerReason.Learned"/>
/// when the head's probability reaches the threshold, then waits CooldownSteps. Allocation-free per update.
/// </summary>
public sealed class LearnedRiskTrigger : IRiskTrigger
{
    private readonly WindowTriggerHead _head;
    private readonly float[] _ring;
    private readonly float[] _gainRing;
    private readonly float[] _currentRing;
    private readonly float[] _current;
    private readonly float[] _window;
    private readonly float[] _gains;
    private readonly float[] _features;
    private int _count, _head0, _cooldown;

    public LearnedRiskTrigger(WindowTriggerHead head, double threshold, int cooldownSteps)
    {
        _head = head ?? throw new ArgumentNullException(nameof(head));
        if (threshold is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "Threshold must be in [0, 1].");
        ArgumentOutOfRangeException.ThrowIfNegative(cooldownSteps);
        Threshold = threshold;
        CooldownSteps = cooldownSteps;
        _ring = new float[head.WindowSize];
        _gainRing = new float[head.WindowSize];
        _currentRing = new float[head.WindowSize];
        _current = new float[head.WindowSize];
        _window = new float[head.WindowSize];
        _gains = new float[head.WindowSize];
        _features = new float[WindowTriggerHead.FeatureCount(head.WindowSize, head.UsesGain, head.UsesCurrentValue)];
    }

    public double Threshold { get; }
    public int CooldownSteps { get; }

    /// <summary>Probability computed at the last update.</summary>
    public float LastProbability { get; private set; }

    public void Reset()
    {
        _count = 0;
        _head0 = 0;
        _cooldown = 0;
        LastProbability = 0;
    }

    /// <summary>The head was trained with predicted gains: call <see cref="Update(float, float)"/>.</summary>
    public bool UsesGain => _head.UsesGain;

    /// <summary>The head was trained with current-latent values V₀(z_t) too: call <see cref="Update(float, float, float)"/>.</summary>
    public bool UsesCurrentValue => _head.UsesCurrentValue;

    public TriggerReason Update(float value)
    {
        if (_head.UsesGain || _head.UsesCurrentValue)
            throw new InvalidOperationException("This learned trigger was trained on (Q, gain, V₀) windows: call Update(q, gain, v0) with FutureValueCritic.EvaluateWithGain and EvaluateNoFuture, or use CriticRiskMonitor.");
        return Update(value, 0f, 0f);
    }

    /// <summary>Adds the current step's value and predicted gain (<see cref="FutureValueCritic.EvaluateWithGain"/>).</summary>
    public TriggerReason Update(float value, float gain)
    {
        if (_head.UsesCurrentValue)
            throw new InvalidOperationException("This learned trigger was trained on (Q, gain, V₀) windows: call Update(q, gain, v0), or use CriticRiskMonitor.");
        return Update(value, gain, 0f);
    }

    /// <summary>
    /// Adds the current step's value, predicted gain (<see cref="FutureValueCritic.EvaluateWithGain"/>) and
    /// current-latent value V₀(z_t) (<see cref="FutureValueCritic.EvaluateNoFuture"/>); unused inputs are ignored.
    /// </summary>
    public TriggerReason Update(float value, float gain, float currentValue)
    {
        if (!float.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "LearnedRiskTrigger.Update needs a finite value.");
        if (!float.IsFinite(gain)) throw new ArgumentOutOfRangeException(nameof(gain), gain, "LearnedRiskTrigger.Update needs a finite gain.");
        if (!float.IsFinite(currentValue)) throw new ArgumentOutOfRangeException(nameof(currentValue), currentValue, "LearnedRiskTrigger.Update needs a finite current value.");
        var k = _ring.Length;
        _ring[_head0] = value;
        _gainRing[_head0] = gain;
        _currentRing[_head0] = currentValue;
        _head0 = (_head0 + 1) % k;
        if (_count < k) _count++;
        for (var i = 0; i < _count; i++)
        {
            _window[i] = _ring[(_head0 - _count + i + k) % k];
            _gains[i] = _gainRing[(_head0 - _count + i + k) % k];
            _current[i] = _currentRing[(_head0 - _count + i + k) % k];
        }
        WindowTriggerHead.Features(_window.AsSpan(0, _count), _head.UsesGain ? _gains.AsSpan(0, _count) : [],
            _head.UsesCurrentValue ? _current.AsSpan(0, _count) : [], k, _features);
        LastProbability = _head.Probability(_features);
        if (_cooldown > 0)
        {
            _cooldown--;
            return TriggerReason.None;
        }
        if (LastProbability < Threshold) return TriggerReason.None;
        _cooldown = CooldownSteps;
        return TriggerReason.Learned;
    }

    /// <summary>Window features of every step of a value sequence (what the trigger sees at each step).</summary>
    public static List<float[]> SequenceFeatures(IReadOnlyList<float> values, int windowSize, IReadOnlyList<float>? gains = null, IReadOnlyList<float>? currentValues = null)
    {
        var list = new List<float[]>(values.Count);
        var buf = new float[windowSize];
        var gbuf = new float[windowSize];
        var cbuf = new float[windowSize];
        for (var t = 0; t < values.Count; t++)
        {
            var n = Math.Min(t + 1, windowSize);
            for (var i = 0; i < n; i++)
            {
                buf[i] = values[t - n + 1 + i];
                if (gains is not null) gbuf[i] = gains[t - n + 1 + i];
                if (currentValues is not null) cbuf[i] = currentValues[t - n + 1 + i];
            }
            var f = new float[WindowTriggerHead.FeatureCount(windowSize, gains is not null, currentValues is not null)];
            WindowTriggerHead.Features(buf.AsSpan(0, n), gains is not null ? gbuf.AsSpan(0, n) : [], currentValues is not null ? cbuf.AsSpan(0, n) : [], windowSize, f);
            list.Add(f);
        }
        return list;
    }

    /// <summary>Steps at which the trigger fires on a (value, gain) sequence (reset first).</summary>
    public List<int> Firings(IReadOnlyList<float> values, IReadOnlyList<float> gains, IReadOnlyList<float>? currentValues = null)
    {
        Reset();
        var fired = new List<int>();
        for (var t = 0; t < values.Count; t++)
            if (Update(values[t], gains[t], currentValues?[t] ?? 0f) != TriggerReason.None) fired.Add(t);
        return fired;
    }

    /// <summary>Saves the head with its window size and tuned threshold.</summary>
    public static void Save(WindowTriggerHead head, double threshold, string path) =>
        head.Parameters.Save(path, new Dictionary<string, string>
        {
            ["format"] = "rift.learned_trigger.v1",
            ["window_size"] = head.WindowSize.ToString(CultureInfo.InvariantCulture),
            ["hidden"] = head.Hidden.ToString(CultureInfo.InvariantCulture),
            ["members"] = head.Networks.Count.ToString(CultureInfo.InvariantCulture),
            ["uses_gain"] = head.UsesGain ? "1" : "0",
            ["uses_current_value"] = head.UsesCurrentValue ? "1" : "0",
            ["threshold"] = threshold.ToString("R", CultureInfo.InvariantCulture),
        });

    /// <summary>The learned trigger trained for <paramref name="task"/>: <c>models/critic/{task}.trigger.safetensors</c>.</summary>
    public static string DefaultPath(string task) => Path.Combine(RiftPaths.Models, "critic", task + ".trigger.safetensors");

    /// <summary>Loads a trigger written by <see cref="Save"/>; cooldown from the caller.</summary>
    public static LearnedRiskTrigger Load(string path, int cooldownSteps = 8)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Trigger weights not found: {path} (train them with `rift train critic`).", path);
        var meta = SafeTensors.ReadMetadata(path);
        var head = new WindowTriggerHead(int.Parse(meta["window_size"], CultureInfo.InvariantCulture), int.Parse(meta["hidden"], CultureInfo.InvariantCulture),
            usesGain: meta.TryGetValue("uses_gain", out var g) && g == "1", usesCurrentValue: meta.TryGetValue("uses_current_value", out var c) && c == "1",
            members: meta.TryGetValue("members", out var m) ? int.Parse(m, CultureInfo.InvariantCulture) : 1);
        head.Parameters.Load(path);
        return new LearnedRiskTrigger(head, double.Parse(meta["threshold"], CultureInfo.InvariantCulture), cooldownSteps);
    }
}
