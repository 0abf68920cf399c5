using System.ComponentModel.DataAnnotations;
using Rift.Nn;

namespace Rift.Learning;

/// <summary>MILE, model-based intervention learning (configuration section <c>Mile</c>); MILE §IV.</summary>
public sealed class MileOptions
{
    /// <summary>Hidden sizes of policy and mental model, comma-separated. Default "256,256".</summary>
    [Required, RegularExpression(@"^\s*[1-9]\d*(\s*,\s*[1-9]\d*)*\s*$", ErrorMessage = "Hidden must be comma-separated positive layer sizes, e.g. \"256,256\".")]
    public string Hidden { get; set; } = "256,256";

    /// <summary>Intervention cost c of the probit model, in log-likelihood units (reference code: drawer-open 60, peg-insert 75). Default 60.</summary>
    [Range(-1e6, 1e6)]
    public double Cost { get; set; } = 60;

    /// <summary>Scale σ_cdf dividing the probit argument (reference code: drawer-open 75, peg-insert 175). Default 75.</summary>
    [Range(1e-9, 1e9)]
    public double SigmaCdf { get; set; } = 75;

    /// <summary>Monte-Carlo samples for each of the two expectations (reference code: 1000). Default 256.</summary>
    [Range(1, 100000)]
    public int Samples { get; set; } = 256;

    /// <summary>λ: loss = λ·BCE(ν̂, ν) + (1 − λ)·NLL(a_h). Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double Lambda { get; set; } = 0.5;

    /// <summary>Gradient steps per call of <see cref="Mile.Train"/>. Default 2000.</summary>
    [Range(1, 10_000_000)]
    public int Steps { get; set; } = 2000;

    /// <summary>Batch size. Default 256.</summary>
    [Range(1, 65536)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Adam learning rate. Default 3e-4.</summary>
    [Range(0.0, 1.0)]
    public double LearningRate { get; set; } = 3e-4;

    /// <summary>Seed. Default 0.</summary>
    public int Seed { get; set; }

    public int[] HiddenSizes() => HiddenLayers.Parse(Hidden);
}

/// <summary>
/// MILE (Korkmaz &amp; Bıyık 2025): a policy π_θ (standing in for the human's π_h) and a mental model π̂_ξ (what the
/// human believes the robot will do), trained jointly through the probit intervention model (MILE eq. 2)
/// p(ν=1|s) = E_{a∼π_θ}[Φ((E_{a'∼π̂_ξ}[ln π_θ(a|s) − ln π_θ(a'|s)] − c) / σ_cdf)],
/// with log-likelihoods of the pre-tanh Normal summed over action dimensions (as in the reference code), and the loss
/// λ·BCE(ν̂, ν) + (1 − λ)·NLL(a_h | ν = 1) (eq. 4–5).
/// <para>Monte-Carlo: with a = μ_θ + σ_θ·ε the first log-likelihood is −½‖ε‖² − Σ log σ_θ + const, and the inner
/// expectation over M mental-model samples a' = μ_ξ + σ_ξ·ε' only needs the sample moments m1 = mean ε', m2 = mean ε'²
/// per dimension, so both expectations are exact sample averages at O(B·(N + A)) cost.</para>
/// </summary>
public sealed class Mile : IPolicy
{
    private readonly Rng _rng;
    private readonly Adam _opt;
    private readonly Graph _g = new();

    public Mile(int inputSize, int actionSize, MileOptions options, TanhGaussianActor? initialPolicy = null)
    {
        Options = options;
        _rng = new Rng(options.Seed);
        Policy = new TanhGaussianActor(inputSize, actionSize, options.HiddenSizes(), _rng);
        if (initialPolicy is not null) Policy.CopyFrom(initialPolicy);
        MentalModel = new TanhGaussianActor(inputSize, actionSize, options.HiddenSizes(), _rng);
        if (initialPolicy is not null) MentalModel.CopyFrom(initialPolicy);
        _opt = new Adam(Policy.Parameters().Concat(MentalModel.Parameters()), (float)options.LearningRate);
    }

    public MileOptions Options { get; }

    /// <summary>π_θ, the policy deployed at test time.</summary>
    public TanhGaussianActor Policy { get; }

    /// <summary>π̂_ξ, the human's mental model of the robot (discarded at test time).</summary>
    public TanhGaussianActor MentalModel { get; }

    public int InputSize => Policy.InputSize;
    public int ActionSize => Policy.ActionSize;

    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng) => Policy.Act(input, action, deterministic, rng);

    /// <summary>ν̂(s) = p(ν = 1 | s) as a graph tensor [B, 1], differentiable in θ and ξ.</summary>
    public Tensor InterventionProbability(Graph g, Tensor inputs, Rng rng)
    {
        int B = inputs.Dim(0), A = ActionSize, N = Options.Samples;
        var (muTh, logStdTh) = Policy.Forward(g, inputs);
        var (muXi, logStdXi) = MentalModel.Forward(g, inputs);
        // Outer samples a_i ~ π_θ: −½‖ε_i‖²; inner samples a'_j ~ π̂_ξ through their per-dimension moments.
        var halfE2 = new float[B * N];
        var m1 = new float[B * A];
        var m2 = new float[B * A];
        for (var i = 0; i < B * N; i++)
        {
            double s = 0;
            for (var d = 0; d < A; d++)
            {
                var e = rng.NextNormal();
                s += e * e;
            }
            halfE2[i] = (float)(-0.5 * s);
        }
        for (var b = 0; b < B; b++)
            for (var d = 0; d < A; d++)
            {
                double s1 = 0, s2 = 0;
                for (var j = 0; j < N; j++)
                {
                    var e = rng.NextNormal();
                    s1 += e;
                    s2 += e * e;
                }
                m1[b * A + d] = (float)(s1 / N);
                m2[b * A + d] = (float)(s2 / N);
            }
        var delta = g.Sub(muXi, muTh);
        var sXi = g.Exp(logStdXi);
        var varTh = g.Exp(g.Scale(logStdTh, 2f));
        var m1t = g.Constant(m1, B, A);
        var m2t = g.Constant(m2, B, A);
        // mean_j ‖(a'_j − μ_θ)/σ_θ‖² = Σ_d (Δ² + 2Δσ_ξ·m1 + σ_ξ²·m2) / σ_θ²
        var quad = g.Add(g.Add(g.Square(delta), g.Scale(g.Mul(g.Mul(delta, sXi), m1t), 2f)), g.Mul(g.Square(sXi), m2t));
        var halfS = g.Scale(g.Sum(g.Div(quad, varTh), -1, keepDim: true), 0.5f);
        // E_j[ln π_θ(a_i) − ln π_θ(a'_j)] = −½‖ε_i‖² + ½·mean_j‖z_j‖² (the log σ_θ terms cancel)
        var arg = g.Scale(g.AddScalar(g.Add(g.Constant(halfE2, B, N), halfS), (float)-Options.Cost), (float)(1.0 / Options.SigmaCdf));
        return g.Mean(g.Probit(arg), 1, keepDim: true);
    }

    /// <summary>ν̂ for each row of <paramref name="inputs"/> ([count, InputSize] row-major), no gradient.</summary>
    public double[] InterventionProbability(float[] inputs, int count, int seed = 0)
    {
        var g = new Graph(gradEnabled: false);
        var p = InterventionProbability(g, Tensor.FromArray(inputs, count, InputSize), new Rng(seed));
        return p.ToArray().Take(count).Select(v => (double)v).ToArray();
    }

    /// <summary>
    /// Trains π_θ and π̂_ξ on recorded steps: ν = 1 on human-controlled steps (their actions are a_h), 0 on robot steps.
    /// Returns the last loss.
    /// </summary>
    public double Train(IReadOnlyList<Transition> data, Action<int, double>? onStep = null)
    {
        if (data.Count == 0) throw new ArgumentException("MILE needs at least one transition.", nameof(data));
        int B = Options.BatchSize, A = ActionSize, In = InputSize;
        var s = new Tensor([B, In]);
        var a = new Tensor([B, A]);
        var nu = new Tensor([B, 1]);
        double last = 0;
        for (var step = 0; step < Options.Steps; step++)
        {
            float humans = 0;
            for (var i = 0; i < B; i++)
            {
                var t = data[_rng.NextInt(data.Count)];
                if (t.Input.Length != In || t.Action.Length != A)
                    throw new ArgumentException($"Transition has input {t.Input.Length} / action {t.Action.Length}, MILE takes {In} / {A}.", nameof(data));
                t.Input.AsSpan().CopyTo(s.Span[(i * In)..]);
                t.Action.AsSpan().CopyTo(a.Span[(i * A)..]);
                nu.Span[i] = t.Controller == Controller.Policy ? 0f : 1f;
                humans += nu.Span[i];
            }
            _g.Reset();
            var p = _g.Clamp(InterventionProbability(_g, s, _rng), 1e-6f, 1f - 1e-6f);
            // BCE(ν̂, ν) = −mean[ν log ν̂ + (1 − ν) log(1 − ν̂)]
            var bce = _g.Neg(_g.Mean(_g.Add(_g.Mul(nu, _g.Log(p)), _g.Mul(_g.RSub(1f, nu), _g.Log(_g.RSub(1f, p))))));
            var loss = _g.Scale(bce, (float)Options.Lambda);
            if (humans > 0)
            {
                var (mu, logStd) = Policy.Forward(_g, s);
                var logLik = _g.TanhNormalLogProb(_g.Clamp(a, -0.999f, 0.999f), mu, logStd);
                var nll = _g.Scale(_g.Neg(_g.Sum(_g.Mul(logLik, nu))), 1f / humans);
                loss = _g.Add(loss, _g.Scale(nll, (float)(1 - Options.Lambda)));
            }
            _opt.ZeroGrad();
            _g.Backward(loss);
            _opt.Step();
            last = loss.Item();
            onStep?.Invoke(step, last);
        }
        return last;
    }
}
