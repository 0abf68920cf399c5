using System.ComponentModel.DataAnnotations;
using Rift.Nn;

namespace Rift.Learning;

/// <summary>Behaviour-cloning priors from scripted-expert demonstrations (configuration section <c>Bc</c>).</summary>
public sealed class BcOptions
{
    /// <summary>Hidden layer sizes of the policy (must match <c>Sac:Hidden</c> when it seeds RIFT). Default "256,256".</summary>
    [Required, RegularExpression(@"^\s*[1-9]\d*(\s*,\s*[1-9]\d*)*\s*$", ErrorMessage = "Hidden must be comma-separated positive layer sizes, e.g. \"256,256\".")]
    public string Hidden { get; set; } = "256,256";

    /// <summary>The parsed <see cref="Hidden"/> sizes.</summary>
    public int[] HiddenSizes() => HiddenLayers.Parse(Hidden);

    /// <summary>Quality knob: number of demonstration episodes. Default 20.</summary>
    [Range(1, 100000)]
    public int Demos { get; set; } = 20;

    /// <summary>Quality knob: std of Gaussian noise added to the expert's actions while demonstrating (executed and recorded). Default 0.</summary>
    [Range(0.0, 10.0)]
    public double ActionNoise { get; set; }

    /// <summary>Quality knob: gradient steps. Default 2000.</summary>
    [Range(1, 10_000_000)]
    public int Steps { get; set; } = 2000;

    /// <summary>Batch size. Default 256.</summary>
    [Range(1, 65536)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Adam learning rate. Default 1e-3.</summary>
    [Range(0.0, 1.0)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>Seed of demonstrations (episode seeds start here), initialisation and sampling. Default 0.</summary>
    public int Seed { get; set; }

    /// <summary>
    /// The cloning loss. <see cref="BcLoss.Mode"/> (default): tanh(μ) regresses onto the actions, log σ fits the residual
    /// spread with μ detached. <see cref="BcLoss.GaussianNll"/>: full Gaussian NLL of the pre-tanh action, so the policy
    /// keeps the demonstrator's spread (a prior that SAC samples from, e.g. π0 of online runs).
    /// </summary>
    public BcLoss Loss { get; set; } = BcLoss.Mode;
}

/// <summary>What behaviour cloning minimises (<see cref="BcOptions.Loss"/>).</summary>
public enum BcLoss
{
    /// <summary>MSE of tanh(μ) to the action (× |A|) plus 0.01 × Gaussian NLL of the pre-tanh action with μ detached.</summary>
    Mode = 0,

    /// <summary>Gaussian NLL of the pre-tanh action in μ and log σ (actions clamped to ±0.97 before atanh).</summary>
    GaussianNll = 1,
}

/// <summary>Demonstration collection with a scripted expert.</summary>
public static class Demonstrations
{
    /// <summary>
    /// Runs <paramref name="expert"/> for <paramref name="episodes"/> episodes (seeds seed0, seed0 + 1, …), adding
    /// N(0, noise²) to each action (clipped to [-1, 1]); transitions record the executed action, controller Human.
    /// </summary>
    public static List<EpisodeRecord> Collect(IEnvironment env, IExpert expert, int episodes, double actionNoise, int seed0, Action? onEpisode = null)
    {
        var rng = new Rng(seed0 * 31 + 5);
        var list = new List<EpisodeRecord>();
        var a = new float[env.Spec.ActionSize];
        for (var e = 0; e < episodes; e++)
        {
            expert.Reset();
            var (obs, _) = env.Reset(seed0 + e);
            var rec = new EpisodeRecord { Task = env.Spec.Task, Seed = seed0 + e };
            while (true)
            {
                expert.Act(obs, a);
                for (var i = 0; i < a.Length; i++) a[i] = Math.Clamp(a[i] + (float)(actionNoise * rng.NextNormal()), -1f, 1f);
                var input = obs.PolicyInput();
                var r = env.Step(a);
                rec.Transitions.Add(new Transition
                {
                    Input = input, Action = (float[])a.Clone(), Reward = (float)r.Reward, NextInput = r.Observation.PolicyInput(),
                    Terminated = r.Terminated, Truncated = r.Truncated, Controller = Controller.Human,
                });
                rec.HumanSteps++;
                obs = r.Observation;
                if (r.Terminated || r.Truncated)
                {
                    rec.Success = r.Info.Success;
                    break;
                }
            }
            list.Add(rec);
            onEpisode?.Invoke();
        }
        return list;
    }
}

/// <summary>
/// (Weighted) behaviour cloning of a tanh-Gaussian policy. <see cref="BcLoss.Mode"/>: the mode tanh(μ) regresses onto
/// the actions (MSE) and log σ fits the residual spread by Gaussian NLL in pre-tanh space with μ detached.
/// <see cref="BcLoss.GaussianNll"/>: maximum likelihood of the pre-tanh actions in μ and σ together, so sampling the
/// clone reproduces the demonstrator's spread. Sampling weights give the weighted-BC baselines (<see cref="WeightedBc"/>).
/// </summary>
public static class BehaviorCloning
{
    /// <summary>|a| bound before atanh under <see cref="BcLoss.GaussianNll"/>.</summary>
    public const float NllActionClamp = 0.97f;

    /// <summary>Trains a new policy on <paramref name="data"/>; <paramref name="weights"/> (optional) are relative sampling weights.</summary>
    public static TanhGaussianActor Train(IReadOnlyList<Transition> data, int inputSize, int actionSize, BcOptions o,
        IReadOnlyList<double>? weights = null, Action<int, double>? onStep = null)
    {
        var actor = new TanhGaussianActor(inputSize, actionSize, o.HiddenSizes(), new Rng(o.Seed));
        Fit(actor, data, o, weights, onStep);
        return actor;
    }

    /// <summary>Continues training <paramref name="actor"/> on <paramref name="data"/>.</summary>
    public static void Fit(TanhGaussianActor actor, IReadOnlyList<Transition> data, BcOptions o, IReadOnlyList<double>? weights = null, Action<int, double>? onStep = null)
    {
        if (data.Count == 0) throw new ArgumentException("Behaviour cloning needs at least one transition.", nameof(data));
        if (weights is not null && weights.Count != data.Count)
            throw new ArgumentException($"{weights.Count} weights for {data.Count} transitions.", nameof(weights));
        int inputSize = actor.InputSize, actionSize = actor.ActionSize;
        foreach (var t in data)
            if (t.Input.Length != inputSize || t.Action.Length != actionSize)
                throw new ArgumentException($"Transition has input {t.Input.Length} / action {t.Action.Length}, the policy takes {inputSize} / {actionSize}.", nameof(data));
        var cdf = Cumulative(data.Count, weights) ?? Enumerable.Range(1, data.Count).Select(i => (double)i).ToArray();
        var rng = new Rng(o.Seed * 7 + 3);
        var opt = new Adam(actor.Parameters(), (float)o.LearningRate);
        var g = new Graph();
        int B = o.BatchSize;
        var s = new Tensor([B, inputSize]);
        var a = new Tensor([B, actionSize]);
        var u = new Tensor([B, actionSize]);
        var nllOnly = o.Loss == BcLoss.GaussianNll;
        // Saturated actions (clipped at ±1) would put atanh targets far out and inflate σ under the full NLL.
        var clamp = nllOnly ? NllActionClamp : 0.999f;
        for (var step = 0; step < o.Steps; step++)
        {
            for (var i = 0; i < B; i++)
            {
                var t = data[Pick(cdf, rng)];
                t.Input.AsSpan().CopyTo(s.Span[(i * inputSize)..]);
                for (var j = 0; j < actionSize; j++)
                {
                    var aj = Math.Clamp(t.Action[j], -clamp, clamp);
                    a.Span[i * actionSize + j] = aj;
                    u.Span[i * actionSize + j] = MathF.Atanh(aj);
                }
            }
            g.Reset();
            var (mu, logStd) = actor.Forward(g, s);
            var loss = nllOnly
                ? g.Neg(g.Mean(g.NormalLogProb(u, mu, logStd)))
                : g.Add(g.Scale(g.MseLoss(g.Tanh(mu), a), actionSize), g.Scale(g.Neg(g.Mean(g.NormalLogProb(u, g.Detach(mu), logStd))), 0.01f));
            opt.ZeroGrad();
            g.Backward(loss);
            opt.Step();
            onStep?.Invoke(step, loss.Item());
        }
    }

    private static double[]? Cumulative(int n, IReadOnlyList<double>? weights)
    {
        if (weights is null) return null;
        var cdf = new double[n];
        double acc = 0;
        for (var i = 0; i < n; i++)
        {
            if (!(weights[i] >= 0) || double.IsInfinity(weights[i])) throw new ArgumentException($"weights[{i}] = {weights[i]} must be finite and ≥ 0.", nameof(weights));
            acc += weights[i];
            cdf[i] = acc;
        }
        if (acc <= 0) throw new ArgumentException("All sampling weights are zero (e.g. HG-DAgger without any human-controlled transition).", nameof(weights));
        return cdf;
    }

    private static int Pick(double[] cdf, Rng rng)
    {
        var x = rng.NextDouble() * cdf[^1];
        var i = Array.BinarySearch(cdf, x);
        if (i < 0) i = ~i;
        return Math.Min(i, cdf.Length - 1);
    }
}
