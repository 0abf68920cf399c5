using Rift.Nn;

namespace Rift.ValueCritic;

/// <summary>
/// One training sample: (z_t, a_t) → z_{t+k} with proxy values v_t and v_{t+k}, and the gain target v_{t+H_g} − v_t
/// with its loss weight (0 where the next H_g steps are not all the base policy's, e.g. they reach a supervisor takeover),
/// and the h − 1 actions before a_t that the gain head sees (oldest first; null when h = 1).
/// </summary>
public readonly record struct CriticSample(float[] Z, float[] Action, float[] ZFuture, float Value, float ValueFuture, float Gain = 0f, float GainWeight = 0f,
    float[]? PreviousActions = null);

/// <summary>
/// Trains <see cref="FutureValueCritic"/> (UniIntervene §"future-conditioned action-value estimation"):
/// latent prediction against the frozen encoder's embedding of the real future frame with a stop-gradient
/// target, and the value heads regressed onto the progress-aligned proxy value.
/// </summary>
public sealed class CriticTrainer
{
    private readonly FutureValueCritic _c;
    private readonly CriticOptions _o;
    private readonly Adam _opt;
    private readonly Graph _g = new();
    private readonly Tensor _z, _a, _zf, _v, _vf, _gain, _gainW, _noise, _noiseF;
    private readonly Tensor? _aPrev;
    private readonly Rng _rng;
    private readonly bool _gainOnly;

    /// <param name="gainHeadOnly">Train the gain head G alone, on the samples' gain targets (the predictor and the value
    /// heads are left as they are); see <see cref="FitGainToLabels"/>.</param>
    public CriticTrainer(FutureValueCritic critic, CriticOptions options, int seed = 0, bool gainHeadOnly = false)
    {
        _c = critic ?? throw new ArgumentNullException(nameof(critic));
        _o = options ?? throw new ArgumentNullException(nameof(options));
        _gainOnly = gainHeadOnly;
        _opt = new Adam(gainHeadOnly ? critic.G.Parameters() : critic.Parameters.Parameters(), lr: (float)options.LearningRate, weightDecay: (float)options.WeightDecay);
        _rng = new Rng(seed);
        int b = options.BatchSize, d = critic.EmbeddingSize;
        _z = new Tensor([b, d]);
        _a = new Tensor([b, critic.ActionSize]);
        _zf = new Tensor([b, d]);
        _v = new Tensor([b, 1]);
        _vf = new Tensor([b, 1]);
        _gain = new Tensor([b, 1]);
        _gainW = new Tensor([b, 1]);
        _noise = new Tensor([b, d]);
        _noiseF = new Tensor([b, d]);
        if (critic.ActionHistory > 1) _aPrev = new Tensor([b, critic.PreviousActionsLength]);
    }

    /// <summary>
    /// Builds the training samples of an episode list (each step t paired with min(t + k, T)), proxy values of
    /// <paramref name="proxy"/>, gain targets over H_g steps: v_{min(t + H_g, T)} − v_t (<see cref="GainTarget.Change"/>)
    /// or whether that exceeds <paramref name="gainMinImprovement"/> (<see cref="GainTarget.Improves"/>, 1 or 0). The
    /// gain target says what the base policy achieves over H_g steps (what the counterfactual labels ask), so it gets
    /// weight 0 where a supervisor takes over within those steps: there the expert's progress would teach "stalled now,
    /// progress soon". With <paramref name="actionHistory"/> h &gt; 1 each sample carries the h − 1 actions before a_t
    /// (padded with a_0).
    /// </summary>
    public static List<CriticSample> Samples(IEnumerable<RolloutEpisode> episodes, int horizon, ProxyValue proxy = ProxyValue.TimeFraction, int gainHorizon = 10,
        int actionHistory = 1, GainTarget gainTarget = GainTarget.Change, double gainMinImprovement = 0.01)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(gainHorizon, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(actionHistory, 1);
        var list = new List<CriticSample>();
        foreach (var ep in episodes)
        {
            if (ep.Embeddings.Count != ep.Steps + 1) throw new ArgumentException($"Episode (seed {ep.Seed}) has {ep.Embeddings.Count} embeddings for {ep.Steps} steps; encode every observation first.", nameof(episodes));
            for (var t = 0; t < ep.Steps; t++)
            {
                var f = Math.Min(t + horizon, ep.Steps);
                var v = ep.ProxyOf(proxy, t);
                float[]? previous = null;
                if (actionHistory > 1)
                {
                    previous = new float[(actionHistory - 1) * ep.Actions[t].Length];
                    FutureValueCritic.FillPreviousActions(ep.Actions, t, actionHistory, previous);
                }
                var change = ep.ProxyOf(proxy, Math.Min(t + gainHorizon, ep.Steps)) - v;
                list.Add(new CriticSample(ep.Embeddings[t], ep.Actions[t], ep.Embeddings[f], v, ep.ProxyOf(proxy, f),
                    gainTarget == GainTarget.Change ? change : change > gainMinImprovement ? 1f : 0f,
                    ep.Kind == RolloutKind.Intervention && ep.InterventionStart >= 0 && t + gainHorizon > ep.InterventionStart ? 0f : 1f,
                    previous));
            }
        }
        return list;
    }

    /// <summary>
    /// <see cref="Samples(IEnumerable{RolloutEpisode}, int, ProxyValue, int, int, GainTarget, double)"/> with the
    /// horizons, action history and gain target of <paramref name="critic"/>; the proxy is the critic's unless given
    /// (an online learner without an oracle passes <see cref="ProxyValue.TimeFraction"/>).
    /// </summary>
    public static List<CriticSample> Samples(IEnumerable<RolloutEpisode> episodes, FutureValueCritic critic, ProxyValue? proxy = null)
    {
        ArgumentNullException.ThrowIfNull(critic);
        return Samples(episodes, critic.Horizon, proxy ?? critic.Proxy, critic.GainHorizon, critic.ActionHistory, critic.GainTarget, critic.GainMinImprovement);
    }

    /// <summary>
    /// Samples of counterfactually labelled episodes whose gain target is the label's answer: the fraction of the base
    /// policy's rollouts that improve where the episode keeps it (<see cref="RolloutEpisode.LabelOdds"/>), else 1 where
    /// a majority improve (not "intervention needed") and 0 where they do not; every step has weight 1.
    /// </summary>
    public static List<CriticSample> LabelSamples(IReadOnlyList<RolloutEpisode> labelled, FutureValueCritic critic)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        var samples = Samples(labelled, critic);
        var i = 0;
        foreach (var ep in labelled)
        {
            if (ep.Labels.Count != ep.Steps) throw new ArgumentException($"Episode (seed {ep.Seed}) has {ep.Labels.Count} labels for {ep.Steps} steps; label it first.", nameof(labelled));
            if (ep.LabelOdds.Count is var n && n != 0 && n != ep.Steps) throw new ArgumentException($"Episode (seed {ep.Seed}) has {n} label odds for {ep.Steps} steps.", nameof(labelled));
            var odds = ep.LabelOdds.Count == ep.Steps;
            for (var t = 0; t < ep.Steps; t++, i++)
                samples[i] = samples[i] with { Gain = odds ? ep.LabelOdds[t] : ep.Labels[t] ? 0f : 1f, GainWeight = 1f };
        }
        return samples;
    }

    /// <summary>
    /// A copy of <paramref name="critic"/> whose gain head G is fine-tuned for <paramref name="steps"/> Adam steps on the
    /// counterfactual labels of <paramref name="labelled"/> (<see cref="LabelSamples"/>, squared error as for
    /// <see cref="GainTarget.Improves"/>); the predictor and the value heads are unchanged. G then estimates the label's
    /// own odds, P(a majority of the base policy's rollouts improve | ẑ, z_t, actions), instead of one realised outcome.
    /// </summary>
    public static FutureValueCritic FitGainToLabels(FutureValueCritic critic, CriticOptions options, IReadOnlyList<RolloutEpisode> labelled, int steps, int seed,
        Action? onStep = null)
    {
        ArgumentNullException.ThrowIfNull(critic);
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        var copy = critic.Clone();
        var samples = LabelSamples(labelled, copy);
        void FineTune(FutureValueCritic c, int fineSeed)
        {
            var trainer = new CriticTrainer(c, options, fineSeed, gainHeadOnly: true);
            for (var i = 0; i < steps; i++)
            {
                trainer.Update(samples);
                onStep?.Invoke();
            }
        }
        FineTune(copy, seed);
        var soup = Math.Max(1, options.GainLabelSoup);
        if (soup == 1) return copy;
        // A soup: the weights of the other fine-tunes (same start, own minibatch streams) are averaged into copy's G.
        var gain = copy.G.Parameters().ToList();
        for (var r = 1; r < soup; r++)
        {
            var fine = critic.Clone();
            FineTune(fine, unchecked(seed + r * 7919));
            foreach (var (dst, src) in gain.Zip(fine.G.Parameters()))
                for (var j = 0; j < dst.Size; j++) dst.Span[j] += src.Span[j];
        }
        foreach (var t in gain)
            for (var j = 0; j < t.Size; j++) t.Span[j] /= soup;
        return copy;
    }

    /// <summary>
    /// The training loss on one batch. Returns (total, latent-prediction, value) losses as graph scalars.
    /// The target n(z_{t+k}) goes through <see cref="Graph.Detach"/>: no gradient reaches the target embedding
    /// (UniIntervene: stop-gradient on the frozen encoder's future latent).
    /// </summary>
    public (Tensor Total, Tensor Prediction, Tensor Value) Loss(Graph g, Tensor z, Tensor action, Tensor zFuture, Tensor value, Tensor valueFuture,
        Tensor? noise = null, Tensor? noiseFuture = null, Tensor? gain = null, Tensor? gainWeight = null, Tensor? previousActions = null)
    {
        ArgumentNullException.ThrowIfNull(g);
        // Latent prediction: ẑ = n(z) + P([n(z), a]) against sg(n(z_{t+k})); inputs optionally noised (regulariser).
        var (zn, zHat) = PredictLatent(g, z, action, noise);
        var target = g.Detach(g.LayerNorm(zFuture, null, null));
        var targetIn = noiseFuture is null ? target : g.Add(target, noiseFuture);
        var lPred = g.MseLoss(zHat, target);

        // Twin value heads on the predicted and on the real future latent; V₀ on the current latent (ablation).
        var zHatSg = g.Detach(zHat);
        var lV = g.Add(
            g.Add(g.MseLoss(_c.V1.Forward(g, zHatSg), valueFuture), g.MseLoss(_c.V2.Forward(g, zHatSg), valueFuture)),
            g.Add(g.MseLoss(_c.V1.Forward(g, targetIn), valueFuture), g.MseLoss(_c.V2.Forward(g, targetIn), valueFuture)));
        lV = g.Add(lV, g.MseLoss(_c.V0.Forward(g, g.Detach(zn)), value));

        // Gain head on [predicted future, current latent, a_t, a_{t−h+1..t−1}] against v_{t+H_g} − v_t. Only on the predicted ẑ: at run
        // time G never sees a real future latent, and training it on one made it lean on detail the predictor cannot give.
        if (gain is not null) lV = g.Add(lV, GainLoss(g, zHatSg, g.Detach(zn), action, gain, gainWeight, previousActions));
        var total = g.Add(lPred, g.Scale(lV, (float)_o.ValueLossWeight));
        return (total, lPred, lV);
    }

    /// <summary>The gain head's weighted squared error on [sg(ẑ), sg(n(z)), a_t, previous actions].</summary>
    private Tensor GainLoss(Graph g, Tensor zHatSg, Tensor znSg, Tensor action, Tensor gain, Tensor? gainWeight, Tensor? previousActions)
    {
        if ((previousActions is null) != (_c.ActionHistory == 1))
            throw new ArgumentException($"The gain head sees {_c.ActionHistory} actions: pass the previous ones exactly when Critic:ActionHistory > 1.", nameof(previousActions));
        var gIn = previousActions is null ? g.Concat(zHatSg, znSg, action) : g.Concat(zHatSg, znSg, action, previousActions);
        var se = g.Square(g.Sub(_c.G.Forward(g, gIn), gain));
        return g.Mean(gainWeight is null ? se : g.Mul(se, gainWeight));
    }

    /// <summary>n(z) (plus the regularising noise, if any) and the predicted latent ẑ = n(z) + P([n(z), a]).</summary>
    private (Tensor Zn, Tensor ZHat) PredictLatent(Graph g, Tensor z, Tensor action, Tensor? noise)
    {
        var zClean = g.LayerNorm(z, null, null);
        var zn = noise is null ? zClean : g.Add(zClean, noise);
        return (zn, g.Add(zn, _c.Predictor.Forward(g, g.Concat(zn, action))));
    }

    /// <summary>The gain head's loss alone, for <c>gainHeadOnly</c> training: the predictor runs forward only.</summary>
    private Tensor GainOnlyLoss(Graph g, Tensor z, Tensor action, Tensor? noise, Tensor gain, Tensor gainWeight, Tensor? previousActions)
    {
        var (zn, zHat) = PredictLatent(g, z, action, noise);
        return GainLoss(g, g.Detach(zHat), g.Detach(zn), action, gain, gainWeight, previousActions);
    }

    /// <summary>One Adam step on a random minibatch; returns (prediction loss, value loss), or (0, gain loss) when training the gain head alone.</summary>
    public (float Prediction, float Value) Update(IReadOnlyList<CriticSample> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("No critic training samples.", nameof(samples));
        int b = _o.BatchSize, d = _c.EmbeddingSize, na = _c.ActionSize;
        for (var i = 0; i < b; i++)
        {
            var s = samples[_rng.NextInt(samples.Count)];
            s.Z.CopyTo(_z.Span.Slice(i * d, d));
            s.Action.CopyTo(_a.Span.Slice(i * na, na));
            s.ZFuture.CopyTo(_zf.Span.Slice(i * d, d));
            _v.Span[i] = s.Value;
            _vf.Span[i] = s.ValueFuture;
            _gain.Span[i] = s.Gain;
            _gainW.Span[i] = s.GainWeight;
            if (_aPrev is not null)
            {
                if (s.PreviousActions is null || s.PreviousActions.Length != _c.PreviousActionsLength)
                    throw new ArgumentException($"The critic's gain head sees {_c.ActionHistory} actions: build the samples with CriticTrainer.Samples(..., actionHistory: {_c.ActionHistory}).", nameof(samples));
                s.PreviousActions.CopyTo(_aPrev.Span.Slice(i * _c.PreviousActionsLength, _c.PreviousActionsLength));
            }
        }
        var sigma = (float)_o.LatentNoise;
        if (sigma > 0)
        {
            _rng.FillNormal(_noise.Span, 0f, sigma);
            _rng.FillNormal(_noiseF.Span, 0f, sigma);
        }
        _g.Reset();
        if (_gainOnly)
        {
            var lG = GainOnlyLoss(_g, _z, _a, sigma > 0 ? _noise : null, _gain, _gainW, _aPrev);
            _opt.ZeroGrad();
            _g.Backward(lG);
            _opt.Step();
            return (0f, lG.Item());
        }
        var (total, lPred, lV) = sigma > 0 ? Loss(_g, _z, _a, _zf, _v, _vf, _noise, _noiseF, _gain, _gainW, _aPrev)
            : Loss(_g, _z, _a, _zf, _v, _vf, gain: _gain, gainWeight: _gainW, previousActions: _aPrev);
        _opt.ZeroGrad();
        _g.Backward(total);
        _opt.Step();
        return (lPred.Item(), lV.Item());
    }

    /// <summary>critic/q_loss: mean squared error of Q(z_t, a_t) against the proxy value v_{t+k}.</summary>
    public static double QLoss(FutureValueCritic critic, IEnumerable<CriticSample> samples)
    {
        double sum = 0;
        var n = 0;
        foreach (var s in samples)
        {
            var e = critic.Evaluate(s.Z, s.Action) - s.ValueFuture;
            sum += e * e;
            n++;
        }
        return n == 0 ? double.NaN : sum / n;
    }

    /// <summary>critic/gain_loss: weighted mean squared error of the gain head against v_{t+H_g} − v_t.</summary>
    public static double GainLoss(FutureValueCritic critic, IEnumerable<CriticSample> samples)
    {
        double sum = 0, w = 0;
        foreach (var s in samples)
        {
            var gain = critic.ActionHistory == 1 ? critic.EvaluateWithGain(s.Z, s.Action).Gain
                : critic.EvaluateWithGain(s.Z, s.Action, s.PreviousActions ?? throw new ArgumentException($"The critic's gain head sees {critic.ActionHistory} actions: build the samples with CriticTrainer.Samples(..., actionHistory: {critic.ActionHistory}).", nameof(samples))).Gain;
            var e = gain - s.Gain;
            sum += s.GainWeight * e * e;
            w += s.GainWeight;
        }
        return w == 0 ? double.NaN : sum / w;
    }
}
