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

/// <summary>HiL-SERL (Rift.Learning <see cref="HilSerlLearner"/>, actor initialised from π0); counts online transitions only.</summary>
public sealed class HilSerlOnlineLearner(HilSerlLearner hil) : IOnlineLearner
{
    public HilSerlLearner Hil { get; } = hil;
    public int InputSize => Hil.InputSize;
    public int ActionSize => Hil.ActionSize;
    public long Stored => Hil.Replay.Online.Added;
    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng) => Hil.Act(input, action, deterministic, rng);
    public void Observe(Transition transition) => Hil.Observe(transition);
    public Dictionary<string, double>? Update() => Hil.Update();
    public void Save(string directory) => Hil.Save(directory);
    public void Load(string directory) => Hil.Load(directory);
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
