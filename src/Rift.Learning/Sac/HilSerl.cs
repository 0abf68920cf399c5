using System.ComponentModel.DataAnnotations;
using Rift.Nn;

namespace Rift.Learning;

/// <summary>The HiL-SERL learner (configuration section <c>HilSerl</c>); DESIGN.md §6.</summary>
public sealed class HilSerlOptions
{
    /// <summary>Critic updates per actor update (HiL-SERL cta_ratio). Default 2.</summary>
    [Range(1, 100)]
    public int CriticActorRatio { get; set; } = 2;

    /// <summary>Target entropy per action dimension (HiL-SERL −|A|/2). Default −0.5.</summary>
    [Range(-100.0, 100.0)]
    public double TargetEntropyPerDimension { get; set; } = -0.5;

    /// <summary>Reward per success step (sparse task reward scale). Default 1.</summary>
    [Range(0.0, 1e6)]
    public double SuccessReward { get; set; } = 1.0;
}

/// <summary>
/// HiL-SERL: SAC on a sparse success reward, human takeover transitions stored in both the online and the intervention
/// buffer and every batch drawn 50/50 from the two (RLPD), with a critic-to-actor ratio of 2. Environment terminations
/// end bootstrapping; truncations (time limit) do not.
/// </summary>
public sealed class HilSerlLearner : IPolicy
{
    private readonly Rng _rng;
    private Batch? _batch;

    public HilSerlLearner(int inputSize, int actionSize, SacOptions sac, HilSerlOptions options, ReplayOptions replay, TanhGaussianActor? initialActor = null)
    {
        Options = options;
        var o = sac.Clone();
        o.CriticActorRatio = options.CriticActorRatio;
        o.TargetEntropyPerDimension = options.TargetEntropyPerDimension;
        Sac = new Sac(inputSize, actionSize, o);
        if (initialActor is not null) Sac.Actor.CopyFrom(initialActor);
        Replay = new MixedReplay(replay, inputSize, actionSize);
        _rng = new Rng(unchecked(sac.Seed * 7919 + 29));
    }

    public HilSerlOptions Options { get; }
    public Sac Sac { get; }
    public MixedReplay Replay { get; private set; }
    public int InputSize => Sac.InputSize;
    public int ActionSize => Sac.ActionSize;

    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng) => Sac.Act(input, action, deterministic, rng);

    /// <summary>Stores a transition; human/agent-controlled ones also go to the intervention buffer.</summary>
    public void Observe(Transition t) => Replay.Add(t);

    /// <summary>
    /// HiL-SERL's demo buffer: offline demonstrations (controller Human, as <see cref="Demonstrations.Collect"/> records
    /// them) go to the intervention buffer only, so they fill the intervention share of every batch from the first
    /// update on without counting as online data.
    /// </summary>
    public void Preload(IEnumerable<Transition> demonstrations)
    {
        foreach (var t in demonstrations) Replay.Interventions.Add(t);
    }

    public Dictionary<string, double> Update()
    {
        _batch ??= new Batch(Sac.Options.BatchSize, InputSize, ActionSize);
        Replay.Sample(_batch, _rng);
        for (var i = 0; i < _batch.Size; i++)
        {
            _batch.Rewards[i] = (float)(Options.SuccessReward * _batch.TaskRewards[i]);
            _batch.Bootstrap[i] = _batch.Terminated[i] > 0 ? 0f : 1f;
        }
        return Sac.Update(_batch);
    }

    /// <summary>Writes weights, optimiser state, both replay buffers and the sampler's RNG to <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        Sac.Save(directory);
        Replay.Save(directory);
        Checkpoint.WriteJson(Path.Combine(directory, "hilserl_options.json"), Options);
        Checkpoint.WriteJson(Path.Combine(directory, "hilserl_state.json"), new LearnerState { Rng = _rng.GetState() });
    }

    public void Load(string directory)
    {
        Sac.Load(directory);
        Replay = MixedReplay.Load(directory, Replay.Options);
        _rng.SetState(Checkpoint.ReadJson<LearnerState>(Path.Combine(directory, "hilserl_state.json")).Rng);
    }
}
