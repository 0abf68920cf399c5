using System.Globalization;
using Rift.Nn;

namespace Rift.ValueCritic;

/// <summary>
/// Baseline (FA-RL style): a single-step failure classifier p(intervention needed | z_t) on the current
/// layer-normalised latent alone, trained with BCE on the same intervention labels as the learned trigger.
/// </summary>
public sealed class FailureClassifier
{
    private readonly MlpEvaluator _eval;
    private readonly float[] _zn;
    private readonly float[] _out = new float[1];

    public FailureClassifier(int embeddingSize, int hidden = 64, int seed = 0)
    {
        Network = new Mlp(embeddingSize, [hidden, hidden], 1, new Rng(seed), layerNorm: true);
        _eval = new MlpEvaluator(Network);
        _zn = new float[embeddingSize];
    }

    public Mlp Network { get; }
    public int EmbeddingSize => Network.InputSize;

    public float Probability(ReadOnlySpan<float> z)
    {
        if (z.Length != EmbeddingSize) throw new ArgumentException($"Embedding has {z.Length} values, the failure classifier expects {EmbeddingSize}.", nameof(z));
        z.CopyTo(_zn);
        MlpEvaluator.Norm(_zn);
        _eval.Forward(_zn, _out);
        return 1f / (1f + MathF.Exp(-_out[0]));
    }

    /// <summary>
    /// Minibatch Adam with BCE; Gaussian noise of std <paramref name="latentNoise"/> on the normalised latents and
    /// weight decay 1e-4, the same regularisation as the critic. Returns the last loss.
    /// </summary>
    public float Train(IReadOnlyList<float[]> z, IReadOnlyList<bool> labels, int steps = 2000, int batch = 256, float lr = 1e-3f, int seed = 0, float latentNoise = 0.3f)
    {
        if (z.Count != labels.Count || z.Count == 0) throw new ArgumentException($"Failure classifier needs matching non-empty data, got {z.Count} embeddings and {labels.Count} labels.", nameof(labels));
        int d = EmbeddingSize;
        var x = new Tensor([batch, d]);
        var y = new Tensor([batch, 1]);
        var rng = new Rng(seed);
        var opt = new Adam(Network.Parameters(), lr: lr, weightDecay: 1e-4f);
        var noise = new Tensor([batch, d]);
        var g = new Graph();
        var last = 0f;
        for (var s = 0; s < steps; s++)
        {
            for (var i = 0; i < batch; i++)
            {
                var j = rng.NextInt(z.Count);
                z[j].CopyTo(x.Span.Slice(i * d, d));
                y.Span[i] = labels[j] ? 1f : 0f;
            }
            if (latentNoise > 0) rng.FillNormal(noise.Span, 0f, latentNoise);
            g.Reset();
            var zn = g.LayerNorm(x, null, null);
            var loss = g.BceWithLogits(Network.Forward(g, latentNoise > 0 ? g.Add(zn, noise) : zn), y);
            opt.ZeroGrad();
            g.Backward(loss);
            opt.Step();
            last = loss.Item();
        }
        return last;
    }

    public void Save(string path, double threshold) => Network.Save(path, new Dictionary<string, string>
    {
        ["format"] = "rift.failure_classifier.v1",
        ["embedding_size"] = EmbeddingSize.ToString(CultureInfo.InvariantCulture),
        ["hidden"] = Network.Layers[0].OutFeatures.ToString(CultureInfo.InvariantCulture),
        ["threshold"] = threshold.ToString("R", CultureInfo.InvariantCulture),
    });

    public static (FailureClassifier Classifier, double Threshold) Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Failure-classifier weights not found: {path} (train them with `rift train critic`).", path);
        var meta = SafeTensors.ReadMetadata(path);
        var c = new FailureClassifier(int.Parse(meta["embedding_size"], CultureInfo.InvariantCulture), int.Parse(meta["hidden"], CultureInfo.InvariantCulture));
        c.Network.Load(path);
        return (c, double.Parse(meta["threshold"], CultureInfo.InvariantCulture));
    }
}

/// <summary>
/// Fires with <see cref="TriggerReason.FailureClassifier"/> when the failure probability fed to
/// <see cref="Update"/> reaches the threshold; same cooldown rule as the other triggers.
/// </summary>
public sealed class FailureClassifierTrigger(double threshold, int cooldownSteps = 8) : IRiskTrigger
{
    private int _cooldown;

    public double Threshold { get; } = threshold;

    public void Reset() => _cooldown = 0;

    /// <summary><paramref name="value"/> is the classifier's failure probability for the current step.</summary>
    public TriggerReason Update(float value)
    {
        if (!float.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "FailureClassifierTrigger.Update needs a finite probability.");
        if (_cooldown > 0)
        {
            _cooldown--;
            return TriggerReason.None;
        }
        if (value < Threshold) return TriggerReason.None;
        _cooldown = cooldownSteps;
        return TriggerReason.FailureClassifier;
    }
}
