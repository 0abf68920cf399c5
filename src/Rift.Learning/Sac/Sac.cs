using System.ComponentModel.DataAnnotations;
using Rift.Nn;

namespace Rift.Learning;

/// <summary>Soft actor-critic (configuration section <c>Sac</c>); DESIGN.md §6.</summary>
public sealed class SacOptions : IValidatableObject
{
    /// <summary>Hidden layer sizes of actor and critics, comma-separated. Default "256,256".</summary>
    [Required, RegularExpression(@"^\s*[1-9]\d*(\s*,\s*[1-9]\d*)*\s*$", ErrorMessage = "Hidden must be comma-separated positive layer sizes, e.g. \"256,256\".")]
    public string Hidden { get; set; } = "256,256";

    /// <summary>The parsed <see cref="Hidden"/> sizes.</summary>
    public int[] HiddenSizes() => HiddenLayers.Parse(Hidden);

    /// <summary>Number of Q critics; the target uses the minimum over all of them (2 = clipped double Q). Default 2.</summary>
    [Range(1, 10)]
    public int Critics { get; set; } = 2;

    /// <summary>LayerNorm after every hidden layer of the critics (RLPD / HiL-SERL). Default true.</summary>
    public bool CriticLayerNorm { get; set; } = true;

    /// <summary>Actor learning rate. Default 3e-4.</summary>
    [Range(0.0, 1.0)]
    public double ActorLearningRate { get; set; } = 3e-4;

    /// <summary>Critic learning rate. Default 3e-4.</summary>
    [Range(0.0, 1.0)]
    public double CriticLearningRate { get; set; } = 3e-4;

    /// <summary>Temperature learning rate. Default 3e-4.</summary>
    [Range(0.0, 1.0)]
    public double TemperatureLearningRate { get; set; } = 3e-4;

    /// <summary>Transitions per gradient step. Default 256.</summary>
    [Range(1, 65536)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Polyak factor τ of the target critics. Default 0.005.</summary>
    [Range(0.0, 1.0)]
    public double Tau { get; set; } = 0.005;

    /// <summary>Discount γ. Default 0.99.</summary>
    [Range(0.0, 1.0)]
    public double Gamma { get; set; } = 0.99;

    /// <summary>Tune the temperature α toward the target entropy. Default true.</summary>
    public bool AutoTemperature { get; set; } = true;

    /// <summary>Initial (or, without auto-tuning, fixed) temperature α. Default 1.0.</summary>
    [Range(0.0, 1e6)]
    public double InitialTemperature { get; set; } = 1.0;

    /// <summary>Target entropy per action dimension: H̄ = this × |A| (SAC −1; HiL-SERL −0.5). Default −1.</summary>
    [Range(-100.0, 100.0)]
    public double TargetEntropyPerDimension { get; set; } = -1.0;

    /// <summary>Critic updates per actor update (HiL-SERL cta_ratio 2). Default 1.</summary>
    [Range(1, 100)]
    public int CriticActorRatio { get; set; } = 1;

    /// <summary>Global gradient-norm clip for every network; 0 disables. Default 0.</summary>
    [Range(0.0, 1e6)]
    public double GradientClip { get; set; }

    /// <summary>Seed of network initialisation and of the update noise. Default 0.</summary>
    public int Seed { get; set; }

    /// <summary>A copy of these options.</summary>
    public SacOptions Clone() => (SacOptions)MemberwiseClone();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!HiddenLayers.TryParse(Hidden, out _))
            yield return new ValidationResult($"Hidden must be comma-separated positive layer sizes, got '{Hidden}'.", [nameof(Hidden)]);
    }
}

/// <summary>
/// A term added to SAC's soft value: the RIFT prior ω·log π0(a|s). Must be differentiable in <c>actions</c>
/// (the actor loss back-propagates through it) and constant in the prior's weights.
/// </summary>
public interface IActionPrior
{
    /// <summary>ω·log π0(a|s) for a batch: inputs [B, In], actions [B, A] → [B, 1].</summary>
    Tensor LogProb(Graph g, Tensor inputs, Tensor actions);
}

/// <summary>
/// Soft actor-critic (Haarnoja et al. 2018) with a tanh-Gaussian actor, an ensemble of LayerNorm critics with
/// Polyak-averaged targets, automatic temperature and a critic-to-actor update ratio. The caller supplies batches
/// whose <see cref="Batch.Rewards"/> and <see cref="Batch.Bootstrap"/> are already set, so reward design and
/// termination-versus-truncation are the learner's choice (RIFT, RLIF, HiL-SERL wrap this class).
/// An optional <see cref="Prior"/> turns it into residual SAC (RIFT Theorem 4.1).
/// </summary>
public sealed class Sac : IPolicy
{
    private readonly Rng _rng;
    private readonly Graph _g = new();
    private readonly Adam _actorOpt, _criticOpt, _alphaOpt;
    private readonly ParameterSet _criticSet;
    private Tensor? _s, _s2, _a, _noise;
    private float[] _y = [];

    public Sac(int inputSize, int actionSize, SacOptions options)
    {
        if (inputSize <= 0 || actionSize <= 0) throw new ArgumentOutOfRangeException(nameof(inputSize), $"SAC needs positive sizes, got input {inputSize}, action {actionSize}.");
        Options = options;
        InputSize = inputSize;
        ActionSize = actionSize;
        _rng = new Rng(options.Seed);
        Actor = new TanhGaussianActor(inputSize, actionSize, options.HiddenSizes(), _rng);
        var critics = new List<Mlp>();
        var targets = new List<Mlp>();
        _criticSet = new ParameterSet();
        for (var k = 0; k < options.Critics; k++)
        {
            var q = new Mlp(inputSize + actionSize, options.HiddenSizes(), 1, _rng, layerNorm: options.CriticLayerNorm);
            var qT = new Mlp(inputSize + actionSize, options.HiddenSizes(), 1, _rng, layerNorm: options.CriticLayerNorm);
            qT.CopyFrom(q);
            qT.SetRequiresGrad(false);
            critics.Add(q);
            targets.Add(qT);
            _criticSet.Add($"q{k}", q);
        }
        Critics = critics;
        TargetCritics = targets;
        LogAlpha = Tensor.Scalar((float)Math.Log(Math.Max(options.InitialTemperature, 1e-12)), requiresGrad: true, name: "log_alpha");
        TargetEntropy = (float)(options.TargetEntropyPerDimension * actionSize);
        _actorOpt = new Adam(Actor.Parameters(), (float)options.ActorLearningRate);
        _criticOpt = new Adam(_criticSet.Parameters(), (float)options.CriticLearningRate);
        _alphaOpt = new Adam([LogAlpha], (float)options.TemperatureLearningRate);
    }

    public SacOptions Options { get; }
    public int InputSize { get; }
    public int ActionSize { get; }
    public TanhGaussianActor Actor { get; }
    public IReadOnlyList<Mlp> Critics { get; }
    public IReadOnlyList<Mlp> TargetCritics { get; }
    public Tensor LogAlpha { get; }
    public float TargetEntropy { get; }
    public float Alpha => MathF.Exp(LogAlpha.Item());

    /// <summary>Residual prior term ω·log π0 (RIFT); null for plain SAC.</summary>
    public IActionPrior? Prior { get; set; }

    /// <summary>While true only the critics learn (RIFT: the actor stays at π0 while the critic warms up).</summary>
    public bool ActorFrozen { get; set; }

    /// <summary>Critic updates applied.</summary>
    public long Updates { get; private set; }

    /// <summary>Actor updates applied.</summary>
    public long ActorUpdates { get; private set; }

    /// <summary>Updates skipped because the batch or the gradients held NaN/Inf.</summary>
    public long SkippedUpdates { get; private set; }

    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng) => Actor.Act(input, action, deterministic, rng);

    /// <summary>
    /// One critic update and, every <see cref="SacOptions.CriticActorRatio"/> critic updates (unless frozen), one actor
    /// and temperature update. Returns metrics under <c>train/</c>; a batch or gradient with NaN/Inf skips the update
    /// without touching any weight and reports <c>train/skipped_nonfinite</c> = 1.
    /// </summary>
    public Dictionary<string, double> Update(Batch batch)
    {
        if (batch.InputSize != InputSize || batch.ActionSize != ActionSize)
            throw new ArgumentException($"Batch is [{batch.InputSize} in, {batch.ActionSize} act], SAC is [{InputSize}, {ActionSize}].", nameof(batch));
        var metrics = new Dictionary<string, double>();
        var bad = batch.FindNonFinite();
        if (bad is not null) return Skip(metrics, $"batch {bad}");
        Bind(batch);
        int B = batch.Size, A = ActionSize;
        var alpha = Alpha;
        var gamma = (float)Options.Gamma;

        // ---- target: y = r + γ·(1 − done)·[min_k Q'_k(s', a') + ω·log π0(a'|s') − α·log π(a'|s')], a' ~ π(·|s')
        _g.Reset();
        _g.GradEnabled = false;
        var (mu2, logStd2) = Actor.Forward(_g, _s2!);
        _rng.FillNormal(_noise!.Span);
        var (a2, logPi2) = _g.SampleTanhNormal(mu2, logStd2, _noise);
        var sa2 = _g.Concat(_s2!, a2);
        var minQ2 = TargetCritics[0].Forward(_g, sa2);
        for (var k = 1; k < TargetCritics.Count; k++) minQ2 = _g.Minimum(minQ2, TargetCritics[k].Forward(_g, sa2));
        var prior2 = Prior?.LogProb(_g, _s2!, a2);
        double priorTarget = 0, entropyTerm = 0;
        for (var i = 0; i < B; i++)
        {
            var p = prior2 is null ? 0f : prior2.Span[i];
            priorTarget += p;
            entropyTerm -= alpha * logPi2.Span[i];
            _y[i] = batch.Rewards[i] + gamma * batch.Bootstrap[i] * (minQ2.Span[i] + p - alpha * logPi2.Span[i]);
        }
        _g.GradEnabled = true;

        // ---- critics: Σ_k MSE(Q_k(s, a), y)
        _g.Reset();
        var sa = _g.Concat(_s!, _a!);
        var y = _g.Constant(_y.AsSpan(0, B), B, 1);
        Tensor? criticLoss = null;
        double qMean = 0;
        foreach (var q in Critics)
        {
            var qv = q.Forward(_g, sa);
            for (var i = 0; i < B; i++) qMean += qv.Span[i];
            var l = _g.MseLoss(qv, y);
            criticLoss = criticLoss is null ? l : _g.Add(criticLoss, l);
        }
        _criticOpt.ZeroGrad();
        _g.Backward(criticLoss!);
        if (!GradientsFinite(_criticSet.Parameters(), out var which)) return Skip(metrics, $"critic gradient {which}");
        if (Options.GradientClip > 0) Optim.ClipGradNorm(_criticSet.Parameters(), (float)Options.GradientClip);
        _criticOpt.Step();
        Updates++;
        metrics["train/critic_loss"] = criticLoss!.Item();
        metrics["train/q_mean"] = qMean / (B * Critics.Count);
        metrics["train/target_mean"] = _y.AsSpan(0, B).ToArray().Average();
        if (Prior is not null) metrics["train/prior_term"] = priorTarget / B;
        // Soft reward per step beyond r: ω·log π0(a'|s') − α·log π(a'|s'); its sign decides whether ending an episode early is a loss.
        metrics["train/soft_reward"] = (priorTarget + entropyTerm) / B;

        // ---- actor: E[α·log π(ã|s) − min_k Q_k(s, ã) − ω·log π0(ã|s)], ã ~ π(·|s) reparameterised
        if (!ActorFrozen && Updates % Options.CriticActorRatio == 0)
        {
            _g.Reset();
            foreach (var q in Critics) q.SetRequiresGrad(false);
            var (mu, logStd) = Actor.Forward(_g, _s!);
            _rng.FillNormal(_noise!.Span);
            var (act, logPi) = _g.SampleTanhNormal(mu, logStd, _noise);
            var saPi = _g.Concat(_s!, act);
            var minQ = Critics[0].Forward(_g, saPi);
            for (var k = 1; k < Critics.Count; k++) minQ = _g.Minimum(minQ, Critics[k].Forward(_g, saPi));
            var objective = _g.Sub(_g.Scale(logPi, alpha), minQ);
            var priorPi = Prior?.LogProb(_g, _s!, act);
            if (priorPi is not null) objective = _g.Sub(objective, priorPi);
            var actorLoss = _g.Mean(objective);
            _actorOpt.ZeroGrad();
            _g.Backward(actorLoss);
            foreach (var q in Critics) q.SetRequiresGrad(true);
            if (!GradientsFinite(Actor.Parameters(), out which)) return Skip(metrics, $"actor gradient {which}");
            if (Options.GradientClip > 0) Optim.ClipGradNorm(Actor.Parameters(), (float)Options.GradientClip);
            _actorOpt.Step();
            ActorUpdates++;
            double meanLogPi = 0;
            for (var i = 0; i < B; i++) meanLogPi += logPi.Span[i];
            meanLogPi /= B;
            metrics["train/actor_loss"] = actorLoss.Item();
            metrics["train/entropy"] = -meanLogPi;

            // ---- temperature: loss = −log α·(log π + H̄) (SAC v2); gradient written directly
            if (Options.AutoTemperature)
            {
                LogAlpha.ZeroGrad();
                LogAlpha.Grad![0] = -(float)(meanLogPi + TargetEntropy);
                _alphaOpt.Step();
            }
        }

        // ---- Polyak averaging of the target critics
        for (var k = 0; k < Critics.Count; k++) TargetCritics[k].PolyakUpdate(Critics[k], (float)Options.Tau);
        metrics["train/alpha"] = Alpha;
        metrics["train/skipped_nonfinite"] = 0;
        return metrics;
    }

    private Dictionary<string, double> Skip(Dictionary<string, double> metrics, string reason)
    {
        // Nothing has been stepped yet in this update: clear gradients so the next update starts clean.
        _criticOpt.ZeroGrad();
        _actorOpt.ZeroGrad();
        foreach (var q in Critics) q.SetRequiresGrad(true);
        SkippedUpdates++;
        metrics.Clear();
        metrics["train/skipped_nonfinite"] = 1;
        metrics["train/skipped_total"] = SkippedUpdates;
        LastSkipReason = reason;
        return metrics;
    }

    /// <summary>Why the last skipped update was skipped (e.g. "batch rewards[3] = NaN").</summary>
    public string? LastSkipReason { get; private set; }

    private static bool GradientsFinite(IEnumerable<Tensor> parameters, out string which)
    {
        foreach (var p in parameters)
        {
            if (p.Grad is null) continue;
            var gr = p.Grad.AsSpan(0, p.Size);
            for (var i = 0; i < gr.Length; i++)
                if (!float.IsFinite(gr[i]))
                {
                    which = $"{p.Name}[{i}] = {gr[i]}";
                    return false;
                }
        }
        which = "";
        return true;
    }

    private void Bind(Batch batch)
    {
        if (_s is null || _s.Dim(0) != batch.Size)
        {
            _s = new Tensor([batch.Size, InputSize]);
            _s2 = new Tensor([batch.Size, InputSize]);
            _a = new Tensor([batch.Size, ActionSize]);
            _noise = new Tensor([batch.Size, ActionSize]);
            _y = new float[batch.Size];
        }
        batch.Inputs.AsSpan().CopyTo(_s.Span);
        batch.NextInputs.AsSpan().CopyTo(_s2!.Span);
        batch.Actions.AsSpan().CopyTo(_a!.Span);
    }

    // ------------------------------------------------------------------ checkpoints

    /// <summary>Every learnable tensor (actor, critics, target critics, log α) under stable names.</summary>
    public ParameterSet Parameters()
    {
        var set = new ParameterSet().Add("actor", Actor);
        for (var k = 0; k < Critics.Count; k++) set.Add($"critic{k}", Critics[k]).Add($"target{k}", TargetCritics[k]);
        return set.Add("log_alpha", LogAlpha);
    }

    /// <summary>RNG state and counters (with the optimiser moments, what a bit-for-bit resume needs beyond the weights).</summary>
    public SacState ExportState() => new()
    {
        Rng = _rng.GetState(),
        Updates = Updates,
        ActorUpdates = ActorUpdates,
        SkippedUpdates = SkippedUpdates,
        ActorFrozen = ActorFrozen,
    };

    public void ImportState(SacState state)
    {
        _rng.SetState(state.Rng);
        Updates = state.Updates;
        ActorUpdates = state.ActorUpdates;
        SkippedUpdates = state.SkippedUpdates;
        ActorFrozen = state.ActorFrozen;
    }

    private Dictionary<string, Adam> Optimizers() => new() { ["actor"] = _actorOpt, ["critic"] = _criticOpt, ["alpha"] = _alphaOpt };

    /// <summary>Writes <c>{prefix}weights.safetensors</c>, <c>{prefix}state.json</c> and <c>{prefix}options.json</c> into <paramref name="directory"/>.</summary>
    public void Save(string directory, string prefix = "sac_")
    {
        Directory.CreateDirectory(directory);
        Parameters().Save(Path.Combine(directory, prefix + "weights.safetensors"),
            new Dictionary<string, string> { ["format"] = "rift-sac", ["input_size"] = InputSize.ToString(), ["action_size"] = ActionSize.ToString() });
        Checkpoint.WriteJson(Path.Combine(directory, prefix + "options.json"), Options);
        Checkpoint.WriteJson(Path.Combine(directory, prefix + "state.json"), ExportState());
        Checkpoint.SaveOptimizers(Path.Combine(directory, prefix + "optimizer.safetensors"), Optimizers());
    }

    /// <summary>
    /// Loads weights and state saved by <see cref="Save"/> into this instance (same architecture). A file from a
    /// different architecture throws <see cref="SafeTensorsException"/> naming the mismatched tensor before anything is copied.
    /// </summary>
    public void Load(string directory, string prefix = "sac_")
    {
        Parameters().Load(Path.Combine(directory, prefix + "weights.safetensors"));
        Checkpoint.LoadOptimizers(Path.Combine(directory, prefix + "optimizer.safetensors"), Optimizers());
        ImportState(Checkpoint.ReadJson<SacState>(Path.Combine(directory, prefix + "state.json")));
    }

    /// <summary>A new SAC from a checkpoint directory, with the options stored in it.</summary>
    public static Sac FromCheckpoint(string directory, int inputSize, int actionSize, string prefix = "sac_")
    {
        var options = Checkpoint.ReadJson<SacOptions>(Path.Combine(directory, prefix + "options.json"));
        var sac = new Sac(inputSize, actionSize, options);
        sac.Load(directory, prefix);
        return sac;
    }
}

/// <summary>Serializable SAC training state (optimiser moments are stored separately as safetensors).</summary>
public sealed class SacState
{
    public ulong[] Rng { get; set; } = [];
    public long Updates { get; set; }
    public long ActorUpdates { get; set; }
    public long SkippedUpdates { get; set; }
    public bool ActorFrozen { get; set; }
}
