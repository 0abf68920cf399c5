using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Rift.Nn;

namespace Rift.Learning;

/// <summary>The <c>check rift</c> experiment (configuration section <c>RiftCheck</c>): RIFT's claims on one task.</summary>
public sealed class RiftCheckOptions
{
    /// <summary>Hidden sizes of prior, actor and critics (small so that the check fits 2 cores). Default "128,128".</summary>
    [Required, RegularExpression(@"^\s*[1-9]\d*(\s*,\s*[1-9]\d*)*\s*$", ErrorMessage = "Hidden must be comma-separated positive layer sizes, e.g. \"256,256\".")]
    public string Hidden { get; set; } = "128,128";

    /// <summary>The parsed <see cref="Hidden"/> sizes.</summary>
    public int[] HiddenSizes() => HiddenLayers.Parse(Hidden);

    /// <summary>BC prior: demonstration episodes (quality knob; on push 10 → ≈30%, 20 → ≈40%, 40 → ≈66% deterministic SR). Default 30.</summary>
    [Range(1, 100000)]
    public int PriorDemos { get; set; } = 30;

    /// <summary>BC prior: demonstration action noise. Default 0.</summary>
    [Range(0.0, 10.0)]
    public double PriorActionNoise { get; set; }

    /// <summary>BC prior: gradient steps. Default 1500.</summary>
    [Range(1, 10_000_000)]
    public int PriorSteps { get; set; } = 1500;

    /// <summary>Environment steps collected per fine-tuning run. Default 8000.</summary>
    [Range(1, 10_000_000)]
    public int EnvSteps { get; set; } = 8000;

    /// <summary>Steps collected with the prior before updates start. Default 1000.</summary>
    [Range(0, 10_000_000)]
    public int WarmupSteps { get; set; } = 1000;

    /// <summary>Gradient updates per environment step after the warm-up (update-to-data ratio). Default 1.5.</summary>
    [Range(0.0, 100.0)]
    public double UpdatesPerStep { get; set; } = 1.5;

    /// <summary>SAC batch size. Default 128.</summary>
    [Range(1, 65536)]
    public int BatchSize { get; set; } = 128;

    /// <summary>Discount γ. Default 0.97.</summary>
    [Range(0.0, 1.0)]
    public double Gamma { get; set; } = 0.97;

    /// <summary>ω of the RIFT runs (the paper's default; ω/(2σ²) = 0.2). Default 0.001.</summary>
    [Range(0.0, 1e6)]
    public double Omega { get; set; } = 0.001;

    /// <summary>
    /// Tune α toward the target entropy. Default false: a fixed small α keeps the per-step soft reward
    /// ω·log π0 − α·log π positive near the prior (the survival bonus of the termination failure case); auto-tuned α
    /// grows until the entropy term dominates and makes it negative (docs/learning.md).
    /// </summary>
    public bool AutoTemperature { get; set; }

    /// <summary>SAC temperature α (initial value when auto-tuned). Default 1e-4.</summary>
    [Range(0.0, 1e6)]
    public double InitialTemperature { get; set; } = 1e-4;

    /// <summary>SAC target entropy per action dimension when <see cref="AutoTemperature"/> is on. Default −2.</summary>
    [Range(-100.0, 100.0)]
    public double TargetEntropyPerDimension { get; set; } = -2.0;

    /// <summary>Actor learning rate of the fine-tuning runs (critic and temperature use 3e-4). Default 3e-4.</summary>
    [Range(0.0, 1.0)]
    public double ActorLearningRate { get; set; } = 3e-4;

    /// <summary>Critic updates with the actor frozen while the critic warms up (RIFT B.1). Default 2000.</summary>
    [Range(0, 10_000_000)]
    public int ActorFreezeSteps { get; set; } = 2000;

    /// <summary>Deterministic evaluation episodes per policy. Default 100.</summary>
    [Range(1, 100000)]
    public int EvalEpisodes { get; set; } = 100;

    /// <summary>
    /// E-stop supervisor: "sim" is Rift.Sim's simulated supervisor as an e-stop (RIFT eq. 11 value gap of the last
    /// action above <see cref="EStopValueGap"/>, or no progress for <see cref="EStopPatience"/> steps); "progress" is
    /// <see cref="ProgressEStopSupervisor"/> (stall or setback of <see cref="StepInfo.Progress"/> only). Default "sim".
    /// </summary>
    [Required, RegularExpression("^(sim|progress)$", ErrorMessage = "Supervisor must be \"sim\" or \"progress\".")]
    public string Supervisor { get; set; } = "sim";

    /// <summary>B of RIFT eq. 11 in progress units per step; large B = low informativeness. Default 0.1.</summary>
    [Range(0.0, 1.0)]
    public double EStopValueGap { get; set; } = 0.1;

    /// <summary>E-stop rule: steps without progress before the e-stop. Default 12.</summary>
    [Range(1, 10000)]
    public int EStopPatience { get; set; } = 12;

    /// <summary>"progress" rule only: drop of progress below its best that triggers the e-stop. Default 0.2.</summary>
    [Range(0.0, 1.0)]
    public double EStopDrop { get; set; } = 0.2;

    /// <summary>Fine-tuning runs executed at once (one per core). Default 2.</summary>
    [Range(1, 64)]
    public int Parallel { get; set; } = 2;

    /// <summary>Seed. Default 0.</summary>
    public int Seed { get; set; }
}

/// <summary>One fine-tuning variant of the check.</summary>
public sealed record RiftVariant(string Name, double Omega, double InterventionPenalty, bool AsTermination);

/// <summary>Result of one variant.</summary>
public sealed record RiftVariantResult(RiftVariant Variant, EvaluationResult Evaluation, double TrainInterventionRate, double Seconds, long Updates, Dictionary<string, double> LastMetrics);

/// <summary>
/// RIFT §6 on a simulated task: a BC prior, e-stop interventions of low informativeness, and four fine-tuning runs —
/// RLIF (ω = 0), RIFT, and RIFT with zero residual reward with interventions as truncation and as termination.
/// </summary>
public sealed class RiftExperiment(RiftCheckOptions options, Func<IEnvironment> makeEnv, Func<IExpert> makeExpert, Func<IEnvironment, IHumanSupervisor> makeSupervisor)
{
    public static readonly int EvalSeed0 = 1_000_000;

    public RiftCheckOptions Options => options;

    public static IReadOnlyList<RiftVariant> Variants(double omega) =>
    [
        new("rlif", 0.0, 1.0, false),
        new("rift", omega, 1.0, false),
        new("zero_reward_trunc", omega, 0.0, false),
        new("zero_reward_term", omega, 0.0, true),
    ];

    public BcOptions PriorOptions() => new()
    {
        Hidden = options.Hidden, Demos = options.PriorDemos, ActionNoise = options.PriorActionNoise,
        Steps = options.PriorSteps, Seed = options.Seed, BatchSize = 256, LearningRate = 1e-3,
    };

    /// <summary>Collects demonstrations and trains the BC prior.</summary>
    public TanhGaussianActor TrainPrior(Action<double>? progress = null)
    {
        using var env = makeEnv();
        var bc = PriorOptions();
        var demos = Demonstrations.Collect(env, makeExpert(), bc.Demos, bc.ActionNoise, 10_000 + options.Seed * 1000);
        var data = demos.SelectMany(d => d.Transitions).ToList();
        return BehaviorCloning.Train(data, env.Spec.PolicyInputSize, env.Spec.ActionSize, bc, onStep: (s, _) => progress?.Invoke((s + 1.0) / bc.Steps));
    }

    public EvaluationResult Evaluate(IPolicy policy, Action? onEpisode = null)
    {
        using var env = makeEnv();
        return Rollouts.Evaluate(env, policy, options.EvalEpisodes, EvalSeed0, makeSupervisor(env), onEpisode);
    }

    public SacOptions SacOptionsFor(int seed) => new()
    {
        Hidden = options.Hidden, BatchSize = options.BatchSize, Gamma = options.Gamma,
        InitialTemperature = options.InitialTemperature, AutoTemperature = options.AutoTemperature, Seed = seed, CriticActorRatio = 1,
        TargetEntropyPerDimension = options.TargetEntropyPerDimension, ActorLearningRate = options.ActorLearningRate,
    };

    /// <summary>Fine-tunes <paramref name="prior"/> with one variant; <paramref name="progress"/> gets the fraction done.</summary>
    public RiftVariantResult Run(TanhGaussianActor prior, RiftVariant v, Action<double>? progress = null)
    {
        var sw = Stopwatch.StartNew();
        using var env = makeEnv();
        var supervisor = makeSupervisor(env);
        var rift = new RiftOptions
        {
            Omega = v.Omega, InterventionPenalty = v.InterventionPenalty, InterventionAsTermination = v.AsTermination,
            ActorFreezeSteps = options.ActorFreezeSteps,
        };
        var learner = new ResidualSac(prior, SacOptionsFor(options.Seed), rift, Math.Max(options.EnvSteps, 1));
        var rng = new Random(options.Seed * 101 + 7);
        int steps = 0, episodes = 0, intervened = 0, seed = 2_000_000 + options.Seed * 100_000;
        double updateDebt = 0;
        var last = new Dictionary<string, double>();
        while (steps < options.EnvSteps)
        {
            var rec = Rollouts.Run(env, learner, supervisor, seed++, deterministic: false, rng);
            episodes++;
            if (rec.InterventionCount > 0) intervened++;
            foreach (var t in rec.Transitions)
            {
                learner.Observe(t);
                steps++;
                if (steps <= options.WarmupSteps || learner.Replay.Count < options.BatchSize) continue;
                updateDebt += options.UpdatesPerStep;
                while (updateDebt >= 1)
                {
                    last = learner.Update();
                    updateDebt -= 1;
                }
            }
            progress?.Invoke(Math.Min(1.0, (double)steps / options.EnvSteps));
        }
        var eval = Evaluate(learner);
        return new RiftVariantResult(v, eval, (double)intervened / Math.Max(1, episodes), sw.Elapsed.TotalSeconds, learner.Sac.Updates, last);
    }
}
