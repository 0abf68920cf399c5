using Rift.Learning;
using Rift.Nn;

namespace Rift.Agent.Online;

/// <summary>A policy that learns from the transitions the arbitration loop collects.</summary>
public interface IOnlineLearner : IPolicy
{
    /// <summary>Transitions stored so far.</summary>
    long Stored { get; }

    /// <summary>Stores one transition (policy, agent or human steps alike; e marks intervention starts).</summary>
    void Observe(Transition transition);

    /// <summary>One gradient update; returns its metrics, or null when this learner does not learn.</summary>
    Dictionary<string, double>? Update();

    /// <summary>Writes weights, optimiser state, replay and sampler state to <paramref name="directory"/>.</summary>
    void Save(string directory);

    /// <summary>Restores what <see cref="Save"/> wrote (same architecture).</summary>
    void Load(string directory);
}

/// <summary>RIFT residual SAC around π0 (reward −e, intervention as truncation); ω = 0 gives RLIF.</summary>
public sealed class ResidualLearner(ResidualSac sac) : IOnlineLearner
{
    public ResidualSac Sac { get; } = sac;
    public int InputSize => Sac.InputSize;
    public int ActionSize => Sac.ActionSize;
    public long Stored => Sac.Replay.Added;
    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng) => Sac.Act(input, action, deterministic, rng);
    public void Observe(Transition transition) => Sac.Observe(transition);
    public Dictionary<string, double>? Update() => Sac.Update();
    public void Save(string directory) => Sac.Save(directory);
    public void Load(string directory) => Sac.Load(directory);
}

/// <summary>
/// HiL-SERL-style SAC (DESIGN.md §6): actor initialised from π0, sparse success reward, human takeover transitions in
/// both an online and an intervention buffer with every batch sampled 50/50 (RLPD), 2 critic updates per actor update,
/// target entropy −|A|/2. Terminations stop the bootstrap; truncations (time limit, interventions) do not.
/// </summary>
public sealed class HilSerlSacLearner : IOnlineLearner
{
    private readonly Rng _rng;
    private readonly Batch _batch;

    public HilSerlSacLearner(TanhGaussianActor prior, SacOptions sac, ReplayOptions replay)
    {
        var o = sac.Clone();
        o.CriticActorRatio = 2;
        o.TargetEntropyPerDimension = -0.5;
        Sac = new Sac(prior.InputSize, prior.ActionSize, o);
        Sac.Actor.CopyFrom(prior);
        Replay = new MixedReplay(replay, prior.InputSize, prior.ActionSize);
        _rng = new Rng(unchecked(sac.Seed * 7919 + 29));
        _batch = new Batch(o.BatchSize, prior.InputSize, prior.ActionSize);
    }

    public Sac Sac { get; }
    public MixedReplay Replay { get; private set; }
    public int InputSize => Sac.InputSize;
    public int ActionSize => Sac.ActionSize;
    public long Stored => Replay.Online.Added;
    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng) => Sac.Act(input, action, deterministic, rng);
    public void Observe(Transition transition) => Replay.Add(transition);

    /// <summary>HiL-SERL's demo buffer: offline demonstrations go to the intervention buffer only.</summary>
    public void Preload(IEnumerable<Transition> demonstrations)
    {
        foreach (var t in demonstrations) Replay.Interventions.Add(t);
    }

    public Dictionary<string, double>? Update()
    {
        Replay.Sample(_batch, _rng);
        // Sparse success reward (the environment's reward is 1 on the success step, which terminates).
        for (var i = 0; i < _batch.Size; i++)
        {
            _batch.Rewards[i] = _batch.TaskRewards[i];
            _batch.Bootstrap[i] = _batch.Terminated[i] > 0 ? 0f : 1f;
        }
        return Sac.Update(_batch);
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        Sac.Save(directory);
        Replay.Save(directory);
        Checkpoint.WriteJson(Path.Combine(directory, "hil_state.json"), new LearnerState { Rng = _rng.GetState() });
    }

    public void Load(string directory)
    {
        Sac.Load(directory);
        Replay = MixedReplay.Load(directory, Replay.Options);
        _rng.SetState(Checkpoint.ReadJson<LearnerState>(Path.Combine(directory, "hil_state.json")).Rng);
    }
}

/// <summary>The prior π0 alone: stores nothing, never updates.</summary>
public sealed class FrozenPolicyLearner(TanhGaussianActor policy) : IOnlineLearner
{
    public TanhGaussianActor Policy { get; } = policy;
    public int InputSize => Policy.InputSize;
    public int ActionSize => Policy.ActionSize;
    public long Stored { get; private set; }
    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng) => Policy.Act(input, action, deterministic, rng);
    public void Observe(Transition transition) => Stored++;
    public Dictionary<string, double>? Update() => null;
    public void Save(string directory) => Directory.CreateDirectory(directory);
    public void Load(string directory) { }
}
