using Rift.Agent.Loop;
using Rift.Learning;
using Rift.Sim;
using Rift.Sim.Supervisors;
using Rift.ValueCritic;

namespace Rift.Agent.Online;

/// <summary>One recorded episode for the critic, recovery-policy and failure-classifier fits (no privileged state).</summary>
public sealed class ExperienceEpisode
{
    public required long Episode { get; init; }
    public required bool Success { get; init; }
    public required RolloutKind Kind { get; init; }

    /// <summary>Policy inputs o_0..o_T (T + 1 entries).</summary>
    public required List<float[]> Inputs { get; init; }
    public required List<float[]> Actions { get; init; }
    public required List<Controller> Controllers { get; init; }

    /// <summary>Frame embeddings z_0..z_T under Online:Encoder=Conv; null when the agent works on the state embedding.</summary>
    public List<float[]>? Embeddings { get; init; }

    /// <summary>From an <see cref="EpisodeRecord"/> as the loop collected it (with the frame embeddings of its observations, if any).</summary>
    public static ExperienceEpisode From(EpisodeRecord r, long episode, RolloutKind kind, IReadOnlyList<float[]>? embeddings = null)
    {
        var inputs = new List<float[]>(r.Steps + 1);
        foreach (var t in r.Transitions) inputs.Add(t.Input);
        if (r.Steps > 0) inputs.Add(r.Transitions[^1].NextInput);
        if (embeddings is not null && embeddings.Count != inputs.Count)
            throw new ArgumentException($"Episode {episode} has {inputs.Count} observations but {embeddings.Count} frame embeddings.", nameof(embeddings));
        return new ExperienceEpisode
        {
            Episode = episode,
            Success = r.Success,
            Kind = r.HumanSteps > 0 && kind != RolloutKind.Expert ? RolloutKind.Intervention : kind,
            Inputs = inputs,
            Actions = r.Transitions.Select(t => t.Action).ToList(),
            Controllers = r.Transitions.Select(t => t.Controller).ToList(),
            Embeddings = embeddings?.ToList(),
        };
    }

    /// <summary>z_t: the frame embedding when recorded, else the state embedding of input t.</summary>
    public float[] Z(int t, StateFeatureEncoder encoder) => Embeddings?[t] ?? encoder.Encode(Inputs[t]);

    /// <summary>The critic's training view: embeddings z_0..z_T, proxy-value labels (t/T on success; human segments as fresh demos).</summary>
    public RolloutEpisode ToRollout(StateFeatureEncoder encoder)
    {
        var r = new RolloutEpisode { Kind = Kind, Seed = (int)Episode, Success = Success, InterventionStart = Controllers.IndexOf(Controller.Human) };
        foreach (var a in Actions) r.Actions.Add(a);
        for (var t = 0; t < Inputs.Count; t++) r.Embeddings.Add(Z(t, encoder));
        return r;
    }

    /// <summary>Contiguous stretches controlled by <paramref name="who"/>, as transitions.</summary>
    public IEnumerable<List<Transition>> Stretches(Controller who)
    {
        List<Transition>? cur = null;
        for (var t = 0; t < Actions.Count; t++)
        {
            if (Controllers[t] == who)
            {
                cur ??= [];
                // A successful episode ends on its success step: reward 1, terminated (the environment's convention).
                var last = Success && t == Actions.Count - 1;
                cur.Add(new Transition { Input = Inputs[t], Action = Actions[t], NextInput = Inputs[t + 1], Controller = who, Reward = last ? 1f : 0f, Terminated = last });
            }
            else if (cur is not null)
            {
                yield return cur;
                cur = null;
            }
        }
        if (cur is not null) yield return cur;
    }
}

/// <summary>
/// What every compared method of one (task, seed) shares, built once from scripted-expert demonstrations: π0
/// (behaviour cloning), the embedding statistics, the critic's and recovery policy's first fits, the failure
/// classifier's first fit, and verified high-value targets to seed the recovery memory.
/// </summary>
public sealed class OnlineSetup
{
    public required string Task { get; init; }
    public required int Seed { get; init; }
    public required TanhGaussianActor Prior { get; init; }
    public required StateFeatureEncoder Encoder { get; init; }
    public required List<ExperienceEpisode> Demos { get; init; }
    public required List<ExperienceEpisode> PriorRollouts { get; init; }
    public required double PriorTrainSuccess { get; init; }

    /// <summary>
    /// π0 rollouts under the simulated takeover supervisor (same settings as the runs): the human's takeovers from the
    /// states π0 actually gets stuck in. Every method that learns from demonstrations gets them — the recovery policy
    /// (rift, fa) and HiL-SERL's demo/intervention buffer — and the critic sees them as experience.
    /// </summary>
    public List<ExperienceEpisode> Takeovers { get; init; } = [];
    /// <summary>The frozen frame encoder under Online:Encoder=Conv (demos and prior rollouts carry frame embeddings); null for State.</summary>
    public ConvFrameEncoder? FrameEncoder { get; init; }

    /// <summary>Dimension of the agent's embedding z.</summary>
    public int EmbeddingSize => FrameEncoder?.Dimension ?? Encoder.Dimension;

    /// <summary>
    /// A seed mixed from <paramref name="parts"/> that is the same in every process (FNV-1a over the values;
    /// <see cref="HashCode.Combine{T1, T2}"/> is randomised per process, which made runs unrepeatable across invocations).
    /// </summary>
    public static int StableSeed(params int[] parts)
    {
        var h = 2166136261u;
        foreach (var p in parts)
            for (var k = 0; k < 4; k++)
            {
                h ^= (uint)(p >> (8 * k)) & 0xFF;
                h *= 16777619u;
            }
        return (int)(h & 0x7FFFFFFF);
    }

    /// <summary>Demonstration seeds: disjoint from training (seed·100000 + episode) and evaluation seeds.</summary>
    public static int DemoSeed(int seed, int i) => 1_000_000 + seed * 1000 + i;

    public static OnlineSetup Build(string task, int seed, OnlineOptions o, SimOptions sim, Action<string>? status = null, SimSupervisorOptions? supervisor = null)
    {
        var frameEncoder = o.Encoder == OnlineEncoder.Conv ? FrameEmbeddingEnvironment.LoadEncoder(task, o.EncoderPath) : null;
        var (simEnv, frames) = FrameEmbeddingEnvironment.Create(task, sim, frameEncoder);
        using var _ = simEnv;
        IEnvironment env = frames is null ? simEnv : frames;
        var expert = SimTasks.CreateExpert(task, sim);
        var rng = new Random(StableSeed(seed, 4242));
        status?.Invoke("demonstrations");
        var demos = new List<ExperienceEpisode>();
        var demoRecords = new List<EpisodeRecord>();
        for (var i = 0; i < o.Demos; i++)
        {
            var rec = Rollout(env, DemoSeed(seed, i), (obs, a) =>
            {
                expert.Act(obs, a);
                for (var j = 0; j < a.Length; j++) a[j] = (float)Math.Clamp(a[j] + o.DemoNoise * Gaussian(rng), -1, 1);
            }, expert.Reset);
            demoRecords.Add(rec);
            demos.Add(ExperienceEpisode.From(rec, -1 - i, RolloutKind.Expert, frames?.Embeddings));
        }
        var encoder = StateFeatureEncoder.Fit(demoRecords, ObservationLayout.PolicyInputSize);

        status?.Invoke("prior π0 (behaviour cloning)");
        HiddenSizes(o.Hidden); // validates Online:Hidden with a clear message
        var bc = new BcOptions { Hidden = o.Hidden, Steps = o.PriorSteps, Seed = seed, Loss = BcLoss.GaussianNll };
        var prior = BehaviorCloning.Train(demoRecords.SelectMany(d => d.Transitions).ToList(), ObservationLayout.PolicyInputSize, ObservationLayout.ActionSize, bc);

        status?.Invoke("prior rollouts");
        var rollouts = new List<ExperienceEpisode>();
        var policyRng = new Random(StableSeed(seed, 77));
        var successes = 0;
        for (var i = 0; i < o.PriorRollouts; i++)
        {
            var rec = Rollout(env, DemoSeed(seed, 500 + i), (obs, a) => prior.Act(obs.PolicyInput(), a, false, policyRng), () => { });
            if (rec.Success) successes++;
            rollouts.Add(ExperienceEpisode.From(rec, -1000 - i, RolloutKind.Base, frames?.Embeddings));
        }

        // Supervised π0 rollouts: the simulated human (takeover kind, otherwise the runs' settings) steps in where π0 stalls.
        var takeovers = new List<ExperienceEpisode>();
        if (supervisor is not null && o.SetupTakeoverEpisodes > 0)
        {
            status?.Invoke("supervised π0 rollouts");
            var so = RiftJson.Copy(supervisor);
            so.Kind = SupervisorKind.Takeover;
            var human = SimulatedSupervisor.For(simEnv, so);
            var frozen = new FrozenPolicyLearner(prior);
            for (var i = 0; i < o.SetupTakeoverEpisodes; i++)
            {
                var arb = new ArbitrationOptions { DecisionDeadlineMs = 0, Seed = StableSeed(seed, 900 + i) };
                using var loop = new ArbitrationLoop(arb, task, frozen, human);
                var r = new EpisodeRunner(env, loop).Run(-2000 - i, DemoSeed(seed, 700 + i));
                takeovers.Add(ExperienceEpisode.From(r.Record, -2000 - i, RolloutKind.Base, frames?.Embeddings));
            }
        }
        return new OnlineSetup
        {
            Task = task, Seed = seed, Prior = prior, Encoder = encoder, Demos = demos, PriorRollouts = rollouts, Takeovers = takeovers,
            PriorTrainSuccess = o.PriorRollouts == 0 ? double.NaN : (double)successes / o.PriorRollouts,
            FrameEncoder = frameEncoder,
        };
    }

    public static int[] HiddenSizes(string hidden)
    {
        try
        {
            var sizes = hidden.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
            if (sizes.Length == 0 || sizes.Any(s => s <= 0)) throw new FormatException();
            return sizes;
        }
        catch (FormatException)
        {
            throw new ArgumentException($"Online:Hidden must be comma-separated positive layer widths like \"128,128\", got \"{hidden}\".");
        }
    }

    private static EpisodeRecord Rollout(IEnvironment env, int seed, Action<Observation, float[]> act, Action reset)
    {
        var rec = new EpisodeRecord { Task = env.Spec.Task, Seed = seed };
        var (obs, _) = env.Reset(seed);
        reset();
        for (var t = 0; t < env.Spec.MaxEpisodeSteps; t++)
        {
            var a = new float[env.Spec.ActionSize];
            act(obs, a);
            var r = env.Step(a);
            rec.Transitions.Add(new Transition
            {
                Input = obs.PolicyInput(), Action = a, Reward = (float)r.Reward, NextInput = r.Observation.PolicyInput(),
                Terminated = r.Terminated, Truncated = r.Truncated, Controller = Controller.Policy,
            });
            obs = r.Observation;
            if (r.Info.Success) rec.Success = true;
            if (r.Terminated || r.Truncated) break;
        }
        return rec;
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
