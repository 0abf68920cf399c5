using System.ComponentModel.DataAnnotations;
using Rift.Nn;

namespace Rift.ValueCritic;

/// <summary>Built-in convolutional frame encoder and its self-supervised training (configuration section <c>ConvEncoder</c>).</summary>
public sealed class ConvEncoderOptions
{
    /// <summary>Side of the encoder's input image; frames are area-averaged to it (128 → 64). Default 64.</summary>
    [Range(16, 512)]
    public int InputSize { get; set; } = 64;

    /// <summary>Channels of the first convolution (later ones use twice this). Default 16.</summary>
    [Range(1, 256)]
    public int Width { get; set; } = 16;

    /// <summary>Embedding size. Default 64.</summary>
    [Range(4, 4096)]
    public int EmbeddingSize { get; set; } = 64;

    /// <summary>Episodes of simulated frames collected for training (half scripted expert, half base policy). Default 40.</summary>
    [Range(2, 100_000)]
    public int Episodes { get; set; } = 40;

    /// <summary>Gradient updates. Default 500.</summary>
    [Range(1, 10_000_000)]
    public int Steps { get; set; } = 500;

    /// <summary>Anchor/positive pairs per batch (the other pairs are the negatives). Default 32.</summary>
    [Range(2, 4096)]
    public int BatchSize { get; set; } = 32;

    /// <summary>Adam learning rate. Default 1e-3.</summary>
    [Range(1e-6, 1.0)]
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>InfoNCE temperature τ. Default 0.1.</summary>
    [Range(1e-3, 10.0)]
    public double Temperature { get; set; } = 0.1;

    /// <summary>Positives are 1..MaxOffset steps from the anchor in the same episode. Default 2.</summary>
    [Range(1, 100)]
    public int MaxOffset { get; set; } = 2;
}

/// <summary>
/// Time-contrastive training of <see cref="ConvEncoderNetwork"/> (TCN-style InfoNCE): an anchor frame and a frame
/// 1..MaxOffset steps away in the same episode are a positive pair; the other pairs of the batch, drawn from other
/// episodes, are negatives. Embeddings are L2-normalised for the loss; the symmetric cross-entropy over
/// cosine similarities / τ is minimised. The convolution stack is differentiated by hand (im2col GEMMs), the
/// linear head and loss on a <see cref="Graph"/>.
/// </summary>
public sealed class EncoderTrainer
{
    private readonly ConvEncoderNetwork _net;
    private readonly ConvEncoderOptions _o;
    private readonly Adam _opt;
    private readonly Rng _rng;
    private readonly float[] _input;
    private readonly float[][] _cols, _acts, _dActs;
    private readonly float[] _dCol;
    private readonly Tensor _features;
    private readonly float[] _identity;
    private readonly Graph _g = new();

    public EncoderTrainer(ConvEncoderNetwork network, ConvEncoderOptions options, int seed)
    {
        _net = network ?? throw new ArgumentNullException(nameof(network));
        _o = options ?? throw new ArgumentNullException(nameof(options));
        _rng = new Rng(seed);
        _opt = new Adam(network.Parameters(), lr: (float)options.LearningRate);
        var n = 2 * options.BatchSize;
        _input = new float[network.InputLength * n];
        _cols = new float[ConvEncoderNetwork.ConvLayers][];
        _acts = new float[ConvEncoderNetwork.ConvLayers][];
        _dActs = new float[ConvEncoderNetwork.ConvLayers][];
        var maxCol = 0;
        for (var l = 0; l < ConvEncoderNetwork.ConvLayers; l++)
        {
            _cols[l] = new float[network.ColLength(l, n)];
            _acts[l] = new float[network.ActLength(l, n)];
            _dActs[l] = new float[network.ActLength(l, n)];
            maxCol = Math.Max(maxCol, _cols[l].Length);
        }
        _dCol = new float[maxCol];
        _features = new Tensor([n, network.FeatureSize], requiresGrad: true, name: "conv_features");
        var b = options.BatchSize;
        _identity = new float[b * b];
        for (var i = 0; i < b; i++) _identity[i * b + i] = 1f;
    }

    /// <summary>One update on pairs drawn from <paramref name="episodes"/> (frames rgb24 at the input side); returns the InfoNCE loss.</summary>
    public float Update(IReadOnlyList<IReadOnlyList<byte[]>> episodes)
    {
        int b = _o.BatchSize, n = 2 * b, s = _net.InputSize, plane = s * s;
        if (episodes.Count < 2) throw new ArgumentException("Time-contrastive training needs at least two episodes.", nameof(episodes));
        // Sample pairs; images go to the [C, N, S, S] layout (anchors 0..b−1, positives b..2b−1).
        var img = new float[3 * plane];
        for (var i = 0; i < b; i++)
        {
            var ep = episodes[_rng.NextInt(episodes.Count)];
            var t = _rng.NextInt(ep.Count);
            var off = 1 + _rng.NextInt(_o.MaxOffset);
            var tp = t + off < ep.Count ? t + off : Math.Max(0, t - off);
            Put(ep[t], i, n, img);
            Put(ep[tp], b + i, n, img);
        }

        // Forward: convolution stack by hand, head + InfoNCE on the graph.
        _net.FeaturesForward(n, _input, _cols, _acts, _features.Span);
        _g.Reset();
        var e = _net.Head.Forward(_g, _features);
        var za = Normalise(_g.Slice(e, 0, 0, b));
        var zp = Normalise(_g.Slice(e, 0, b, b));
        var eye = _g.Constant(_identity, b, b);
        var invTau = (float)(1.0 / _o.Temperature);
        var loss = _g.Scale(_g.Add(CrossEntropyDiagonal(_g.Scale(_g.Linear(za, zp, null), invTau), eye),
                                   CrossEntropyDiagonal(_g.Scale(_g.Linear(zp, za, null), invTau), eye)), 0.5f);

        // Backward: graph to the features, then the convolutions.
        _opt.ZeroGrad();
        _features.ZeroGrad();
        _g.Backward(loss);
        _net.FeaturesBackward(n, _features.GradSpan, _cols, _acts, _dActs, _dCol);
        _opt.Step();
        return loss.Item();

        void Put(byte[] rgb, int index, int count, float[] scratch)
        {
            FramePreprocessor.ToChw(rgb, s, s, s, scratch);
            for (var c = 0; c < 3; c++) scratch.AsSpan(c * plane, plane).CopyTo(_input.AsSpan((c * count + index) * plane, plane));
        }
    }

    private Tensor Normalise(Tensor x) =>
        _g.Div(x, _g.Sqrt(_g.AddScalar(_g.Sum(_g.Square(x), 1, true), 1e-8f)));

    /// <summary>Mean over rows of logsumexp(row) − row[i] (softmax cross-entropy with the diagonal as the class).</summary>
    private Tensor CrossEntropyDiagonal(Tensor logits, Tensor eye)
    {
        var m = _g.Detach(_g.Max(logits, 1, true));
        var lse = _g.Add(_g.Log(_g.Sum(_g.Exp(_g.Sub(logits, m)), 1, true)), m);
        var diag = _g.Sum(_g.Mul(logits, eye), 1, true);
        return _g.Mean(_g.Sub(lse, diag));
    }
}
