using System.Numerics.Tensors;
using Tensor = Rift.Nn.Tensor;
using Rift.Nn;

namespace Rift.ValueCritic;

/// <summary>
/// The built-in frozen frame encoder: <see cref="ConvEncoderNetwork"/> with weights trained by
/// <c>rift train encoder</c> (time-contrastive, see docs/critic.md). Any frame size is accepted (area-averaged to
/// the network's input side). <see cref="Encode"/> allocates nothing after construction; one instance per thread.
/// </summary>
public sealed class ConvFrameEncoder : IFrameEncoder
{
    private readonly ConvEncoderNetwork _net;
    private readonly float[] _input;
    private readonly float[][] _cols;
    private readonly float[][] _acts;
    private readonly float[] _features;

    public ConvFrameEncoder(ConvEncoderNetwork network)
    {
        _net = network ?? throw new ArgumentNullException(nameof(network));
        _net.SetRequiresGrad(false);
        _input = new float[_net.InputLength];
        _cols = new float[ConvEncoderNetwork.ConvLayers][];
        _acts = new float[ConvEncoderNetwork.ConvLayers][];
        for (var l = 0; l < ConvEncoderNetwork.ConvLayers; l++)
        {
            _cols[l] = new float[_net.ColLength(l, 1)];
            _acts[l] = new float[_net.ActLength(l, 1)];
        }
        _features = new float[_net.FeatureSize];
    }

    /// <summary>Loads a frozen encoder from a weights file written by <c>rift train encoder</c>.</summary>
    public static ConvFrameEncoder Load(string path) => new(ConvEncoderNetwork.Load(path));

    /// <summary>The default weights for <paramref name="task"/>: <c>models/encoder/{task}.safetensors</c>.</summary>
    public static string DefaultPath(string task) => Path.Combine(Rift.Learning.RiftPaths.Models, "encoder", task + ".safetensors");

    public ConvEncoderNetwork Network => _net;

    public int Dimension => _net.EmbeddingSize;

    public void Encode(Observation observation, Span<float> z)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var frame = observation.Frame ?? throw new ArgumentException("ConvFrameEncoder needs a camera frame in the observation (Observation.Frame is null); enable Sim:RenderFrames or supply Observation.Embedding with ExternalEmbeddingEncoder.", nameof(observation));
        Encode(frame, z);
    }

    public void Encode(Frame frame, Span<float> z)
    {
        ArgumentNullException.ThrowIfNull(frame);
        FramePreprocessor.ToChw(frame, _net.InputSize, _input);
        EncodePreprocessed(_input, z);
    }

    /// <summary>Encodes an already preprocessed [3, S, S] image.</summary>
    public void EncodePreprocessed(ReadOnlySpan<float> chw, Span<float> z)
    {
        if (chw.Length != _net.InputLength) throw new ArgumentException($"Preprocessed image has {chw.Length} floats, the encoder needs 3x{_net.InputSize}x{_net.InputSize} = {_net.InputLength}.", nameof(chw));
        if (z.Length != Dimension) throw new ArgumentException($"Embedding buffer has {z.Length} floats, the encoder writes {Dimension}.", nameof(z));
        _net.FeaturesForwardSingle(chw, _cols, _acts, _features);
        var w = _net.Head.Weight.Span;
        var b = _net.Head.Bias!.Span;
        var f = _features.AsSpan();
        var n = f.Length;
        for (var i = 0; i < z.Length; i++) z[i] = TensorPrimitives.Dot(w.Slice(i * n, n), f) + b[i];
    }
}

/// <summary>
/// Embeddings computed next to the robot (e.g. V-JEPA 2) and supplied in <see cref="Observation.Embedding"/>;
/// this encoder only checks the dimension and copies.
/// </summary>
public sealed class ExternalEmbeddingEncoder : IFrameEncoder
{
    public ExternalEmbeddingEncoder(int dimension)
    {
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Embedding dimension must be positive.");
        Dimension = dimension;
    }

    public int Dimension { get; }

    public void Encode(Observation observation, Span<float> z)
    {
        ArgumentNullException.ThrowIfNull(observation);
        var e = observation.Embedding ?? throw new ArgumentException($"ExternalEmbeddingEncoder needs Observation.Embedding ({Dimension} floats) but the observation has none.", nameof(observation));
        if (e.Length != Dimension)
            throw new ArgumentException($"Observation.Embedding has {e.Length} floats but the encoder/critic expects {Dimension}; configure the critic for the robot-side encoder's dimension.", nameof(observation));
        if (z.Length != Dimension) throw new ArgumentException($"Embedding buffer has {z.Length} floats, expected {Dimension}.", nameof(z));
        for (var i = 0; i < e.Length; i++)
            if (!float.IsFinite(e[i])) throw new ArgumentException($"Observation.Embedding[{i}] is {e[i]}.", nameof(observation));
        e.CopyTo(z);
    }
}
