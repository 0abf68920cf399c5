using System.ComponentModel.DataAnnotations;
using Rift.Nn;

namespace Rift.Learning;

/// <summary>RIFT residual intervention fine-tuning (configuration section <c>Rift</c>); RIFT §4.3, §6.5, appendix B.</summary>
public sealed class RiftOptions
{
    /// <summary>
    /// ω, weight of the prior term ω·log π0(a|s) (RIFT eq. 6–8). 0 gives RLIF. With σ = 0.05 the default 0.001
    /// puts ω/(2σ²) = 0.2 on ‖a − μ0(s)‖² (RIFT B.3). Default 0.001.
    /// </summary>
    [Range(0.0, 1e6)]
    public double Omega { get; set; } = 0.001;

    /// <summary>σ of the Gaussian-around-mode prior approximation N(a | μ0(s), σ²I) (RIFT eq. 84). Default 0.05.</summary>
    [Range(1e-6, 10.0)]
    public double PriorSigma { get; set; } = 0.05;

    /// <summary>
    /// Keep the Gaussian's log-normaliser C = −(D/2)·log(2πσ²) in log π0 (positive for σ = 0.05: +8.3 for D = 4).
    /// Under truncation C shifts every Q by ωC/(1 − γ) and changes nothing; under termination it is a per-step
    /// survival bonus ωC that ending an episode forfeits (see docs/learning.md). Default true.
    /// </summary>
    public bool IncludePriorNormaliser { get; set; } = true;

    /// <summary>Critic updates during which the actor stays frozen at π0 while the critic warms up (RIFT B.1). Default 2000.</summary>
    [Range(0, 100_000_000)]
    public int ActorFreezeSteps { get; set; } = 2000;

    /// <summary>Residual reward per intervention: r = −InterventionPenalty·e (0 = zero residual reward). Default 1.</summary>
    [Range(0.0, 1e6)]
    public double InterventionPenalty { get; set; } = 1.0;

    /// <summary>Weight of the environment's task reward added to the residual reward. Default 0 (interventions only).</summary>
    [Range(-1e6, 1e6)]
    public double TaskRewardWeight { get; set; }

    /// <summary>
    /// Treat the intervention transition as a termination (no bootstrap from s'). Exists only to reproduce the
    /// paper's failure case (RIFT §6.5, B.2); the default false treats it as a truncation: target −e + γ·V(s').
    /// </summary>
    public bool InterventionAsTermination { get; set; }
}

/// <summary>
/// The RIFT prior term ω·log π0(a|s) with π0 approximated by a Gaussian around its mode (RIFT B.3, eq. 84):
/// log π0(a|s) ≈ −‖a − tanh(μ0(s))‖² / (2σ²) + C. The prior network is frozen; gradients flow only into a.
/// </summary>
public sealed class GaussianModePrior : IActionPrior
{
    private readonly TanhGaussianActor _prior;

    public GaussianModePrior(TanhGaussianActor prior, double omega, double sigma, bool includeNormaliser)
    {
        _prior = prior;
        _prior.SetRequiresGrad(false);
        Omega = omega;
        Sigma = sigma;
        LogNormaliser = includeNormaliser ? -0.5 * prior.ActionSize * Math.Log(2 * Math.PI * sigma * sigma) : 0.0;
    }

    public double Omega { get; }
    public double Sigma { get; }

    /// <summary>C = −(D/2)·log(2πσ²), or 0 when excluded.</summary>
    public double LogNormaliser { get; }

    public TanhGaussianActor Network => _prior;

    public Tensor LogProb(Graph g, Tensor inputs, Tensor actions)
    {
        var (mu, _) = _prior.Forward(g, inputs);
        var mode = g.Detach(g.Tanh(mu));
        var sq = g.Sum(g.Square(g.Sub(actions, mode)), -1, keepDim: true);
        var logPi0 = g.AddScalar(g.Scale(sq, (float)(-1.0 / (2 * Sigma * Sigma))), (float)LogNormaliser);
        return g.Scale(logPi0, (float)Omega);
    }
}

/// <summary>
/// RIFT: residual soft actor-critic around a frozen prior π0 (RIFT Algorithm 2 with residual SAC). The actor starts as
/// a copy of π0 and stays frozen for <see cref="RiftOptions.ActorFreezeSteps"/> critic updates; the reward is
/// r = −e (+ optional task reward); critic target y = r + γ[min Q'(s',a') + ω·log π0(a'|s') − α·log π(a'|s')],
/// bootstrapping through truncations (including interventions) but not through terminations;
/// actor loss E[α·log π − min Q − ω·log π0]. ω = 0 is RLIF (Luo et al. 2024).
/// </summary>
public sealed class ResidualSac : IPolicy
{
    private readonly Rng _rng;
    private Batch? _batch;

    public ResidualSac(TanhGaussianActor prior, SacOptions sac, RiftOptions rift, int replayCapacity = 200_000)
    {
        if (!prior.HiddenSizes.SequenceEqual(sac.HiddenSizes()))
            throw new ArgumentException($"Prior hidden sizes [{string.Join(", ", prior.HiddenSizes)}] differ from Sac:Hidden '{sac.Hidden}'; the actor is initialised from the prior.", nameof(prior));
        Options = rift;
        Prior = prior.Clone();
        Sac = new Sac(prior.InputSize, prior.ActionSize, sac);
        Sac.Actor.CopyFrom(prior);
        if (rift.Omega > 0) Sac.Prior = new GaussianModePrior(Prior, rift.Omega, rift.PriorSigma, rift.IncludePriorNormaliser);
        Sac.ActorFrozen = rift.ActorFreezeSteps > 0;
        Replay = new ReplayBuffer(replayCapacity, prior.InputSize, prior.ActionSize);
        _rng = new Rng(unchecked(sac.Seed * 7919 + 17));
    }

    public RiftOptions Options { get; }
    public Sac Sac { get; }

    /// <summary>The frozen prior π0.</summary>
    public TanhGaussianActor Prior { get; }

    public ReplayBuffer Replay { get; private set; }
    public int InputSize => Sac.InputSize;
    public int ActionSize => Sac.ActionSize;

    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng) => Sac.Act(input, action, deterministic, rng);

    /// <summary>Stores a transition (policy or human steps alike; the intervention flag e marks e-stops/takeover starts).</summary>
    public void Observe(Transition t) => Replay.Add(t);

    /// <summary>Samples a batch, applies the RIFT reward and done rule, and runs one SAC update.</summary>
    public Dictionary<string, double> Update()
    {
        var o = Sac.Options;
        _batch ??= new Batch(o.BatchSize, InputSize, ActionSize);
        Replay.SampleInto(_batch, 0, _batch.Size, _rng);
        ApplyRewards(_batch, Options);
        Sac.ActorFrozen = Sac.Updates < Options.ActorFreezeSteps;
        var m = Sac.Update(_batch);
        m["train/actor_frozen"] = Sac.ActorFrozen ? 1 : 0;
        return m;
    }

    /// <summary>r = −penalty·e + w·r_task; bootstrap unless terminated (or, in the failure-case switch, intervened).</summary>
    public static void ApplyRewards(Batch b, RiftOptions o)
    {
        for (var i = 0; i < b.Size; i++)
        {
            b.Rewards[i] = (float)(-o.InterventionPenalty * b.Interventions[i] + o.TaskRewardWeight * b.TaskRewards[i]);
            var done = b.Terminated[i] > 0 || (o.InterventionAsTermination && b.Interventions[i] > 0);
            b.Bootstrap[i] = done ? 0f : 1f;
        }
    }

    /// <summary>Saves SAC (weights, optimiser, RNG), the prior, the replay buffer, the options and the sampler RNG.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        Sac.Save(directory);
        Prior.Save(Path.Combine(directory, "prior.safetensors"));
        Replay.Save(Path.Combine(directory, "online.replay"));
        Checkpoint.WriteJson(Path.Combine(directory, "rift_options.json"), Options);
        Checkpoint.WriteJson(Path.Combine(directory, "rift_state.json"), new LearnerState { Rng = _rng.GetState() });
    }

    /// <summary>Restores everything <see cref="Save"/> wrote into this instance (same architecture).</summary>
    public void Load(string directory)
    {
        Prior.Load(Path.Combine(directory, "prior.safetensors"));
        Sac.Load(directory);
        Replay = ReplayBuffer.Load(Path.Combine(directory, "online.replay"));
        _rng.SetState(Checkpoint.ReadJson<LearnerState>(Path.Combine(directory, "rift_state.json")).Rng);
    }
}

/// <summary>Serializable sampler state of a learner.</summary>
public sealed class LearnerState
{
    public ulong[] Rng { get; set; } = [];
}
