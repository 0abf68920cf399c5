using System.Globalization;
using System.Numerics.Tensors;
using Tensor = Rift.Nn.Tensor;
using Rift.Nn;

namespace Rift.ValueCritic;

/// <summary>
/// The built-in frame encoder's network: four 4×4 stride-2 convolutions (padding 1, ReLU) halving the image each
/// time, then a linear map of the flattened features to the embedding. Channels Width, 2·Width, 2·Width, 2·Width.
/// Activations use a channel-major batch layout [C, B, H, W] so that one GEMM covers a whole batch.
/// Parameter names: <c>conv{i}.weight</c> [out, in, 4, 4], <c>conv{i}.bias</c>, <c>head.weight</c>, <c>head.bias</c>.
/// </summary>
public sealed class ConvEncoderNetwork : IModule
{
    public const int Kernel = 4, Stride = 2, Padding = 1, ConvLayers = 4;

    public ConvEncoderNetwork(int inputSize, int width, int embeddingSize, Rng rng)
    {
        if (inputSize < 16 || inputSize % 16 != 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, "Encoder input size must be a positive multiple of 16.");
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddingSize, 1);
        InputSize = inputSize;
        Width = width;
        EmbeddingSize = embeddingSize;
        Channels = [3, width, 2 * width, 2 * width, 2 * width];
        Sizes = [inputSize, inputSize / 2, inputSize / 4, inputSize / 8, inputSize / 16];
        Weights = new Tensor[ConvLayers];
        Biases = new Tensor[ConvLayers];
        for (var l = 0; l < ConvLayers; l++)
        {
            Weights[l] = Tensor.Parameter([Channels[l + 1], Channels[l], Kernel, Kernel], $"conv{l}.weight");
            Biases[l] = Tensor.Parameter([Channels[l + 1]], $"conv{l}.bias");
            Init.TorchLinear(Weights[l], Biases[l], rng); // fan-in = in·k·k, like torch's Conv2d default
        }
        Head = new Linear(FeatureSize, embeddingSize, rng);
    }

    public int InputSize { get; }
    public int Width { get; }
    public int EmbeddingSize { get; }

    /// <summary>Channels per stage, input first: [3, W, 2W, 2W, 2W].</summary>
    public int[] Channels { get; }

    /// <summary>Spatial side per stage, input first.</summary>
    public int[] Sizes { get; }

    public Tensor[] Weights { get; }
    public Tensor[] Biases { get; }
    public Linear Head { get; }

    /// <summary>Length of the flattened last feature map.</summary>
    public int FeatureSize => Channels[ConvLayers] * Sizes[ConvLayers] * Sizes[ConvLayers];

    /// <summary>Floats of one preprocessed input image (3·S·S).</summary>
    public int InputLength => 3 * InputSize * InputSize;

    /// <summary>im2col row count of layer l (in·k·k).</summary>
    public int ColRows(int l) => Channels[l] * Kernel * Kernel;

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters()
    {
        for (var l = 0; l < ConvLayers; l++)
        {
            yield return ($"conv{l}.weight", Weights[l]);
            yield return ($"conv{l}.bias", Biases[l]);
        }
        foreach (var (n, t) in Head.NamedParameters()) yield return ("head." + n, t);
    }

    public Dictionary<string, string> Metadata() => new()
    {
        ["format"] = "rift.conv_encoder.v1",
        ["input_size"] = InputSize.ToString(CultureInfo.InvariantCulture),
        ["width"] = Width.ToString(CultureInfo.InvariantCulture),
        ["embedding_size"] = EmbeddingSize.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Builds a network with the architecture recorded in a weights file's metadata and loads its weights.</summary>
    public static ConvEncoderNetwork Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Encoder weights not found: {path} (train them with `rift train encoder`).", path);
        var meta = SafeTensors.ReadMetadata(path);
        int Get(string key) => meta.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture)
            : throw new InvalidDataException($"{path}: metadata key '{key}' missing; not a Rift conv encoder file.");
        var net = new ConvEncoderNetwork(Get("input_size"), Get("width"), Get("embedding_size"), new Rng(0));
        net.Load(path);
        return net;
    }

    // ------------------------------------------------------------------ convolution pieces

    /// <summary>im2col for a [C, B, S, S] input into col [C·k·k, B·So·So] (So = S/2), one image at a time.</summary>
    public void Im2Col(int l, int batch, ReadOnlySpan<float> input, Span<float> col)
    {
        var (g, s, so) = (Geometry(l), Sizes[l], Sizes[l + 1]);
        for (var b = 0; b < batch; b++)
            ConvLowering.Im2Col(input[(b * s * s)..], col[(b * so * so)..], g, channelStride: batch * s * s, rowStride: batch * so * so);
    }

    /// <summary>Adds col [C·k·k, B·So·So] back onto a [C, B, S, S] gradient (the adjoint of <see cref="Im2Col"/>).</summary>
    public void Col2ImAdd(int l, int batch, ReadOnlySpan<float> col, Span<float> dInput)
    {
        var (g, s, so) = (Geometry(l), Sizes[l], Sizes[l + 1]);
        for (var b = 0; b < batch; b++)
            ConvLowering.Col2ImAdd(col[(b * so * so)..], dInput[(b * s * s)..], g, channelStride: batch * s * s, rowStride: batch * so * so);
    }

    private ConvLowering.Geometry Geometry(int l) =>
        new(Channels[l], Sizes[l], Sizes[l], Kernel, Kernel, Stride, Padding, Sizes[l + 1], Sizes[l + 1]);

    /// <summary>out [Cout, B·So·So] = ReLU(W·col + b).</summary>
    public void ConvForward(int l, int batch, ReadOnlySpan<float> col, Span<float> output)
    {
        int cout = Channels[l + 1], k = ColRows(l), n = batch * Sizes[l + 1] * Sizes[l + 1];
        Gemm.Multiply(false, false, cout, n, k, Weights[l].Span, k, col, n, output, n, threads: 1);
        var bias = Biases[l].Span;
        for (var co = 0; co < cout; co++)
        {
            var row = output.Slice(co * n, n);
            TensorPrimitives.Add(row, bias[co], row);
            TensorPrimitives.Max(row, 0f, row);
        }
    }

    /// <summary>
    /// The whole convolution stack for a batch: input [3, B, S, S] → features [B, FeatureSize] (sample-major, channel
    /// then position, like torch's flatten of NCHW). <paramref name="cols"/> and <paramref name="acts"/> are work
    /// buffers sized by <see cref="ColLength"/>/<see cref="ActLength"/>; they keep what backward needs.
    /// </summary>
    public void FeaturesForward(int batch, ReadOnlySpan<float> input, float[][] cols, float[][] acts, Span<float> features)
    {
        for (var l = 0; l < ConvLayers; l++)
        {
            Im2Col(l, batch, l == 0 ? input : acts[l - 1], cols[l]);
            ConvForward(l, batch, cols[l], acts[l]);
        }
        // [C, B, P] → [B, C·P]
        int c = Channels[ConvLayers], p = Sizes[ConvLayers] * Sizes[ConvLayers];
        var last = acts[ConvLayers - 1].AsSpan();
        for (var b = 0; b < batch; b++)
            for (var ci = 0; ci < c; ci++)
                last.Slice((ci * batch + b) * p, p).CopyTo(features.Slice(b * FeatureSize + ci * p, p));
    }

    /// <summary>
    /// Single-image inference path without GEMM: patches [So·So, C·k·k] (one contiguous patch per output position)
    /// and one dot product per (output channel, position). Allocation-free; same result as the batched path.
    /// </summary>
    public void FeaturesForwardSingle(ReadOnlySpan<float> input, float[][] patches, float[][] acts, Span<float> features)
    {
        for (var l = 0; l < ConvLayers; l++)
        {
            ReadOnlySpan<float> x = l == 0 ? input : acts[l - 1];
            int c = Channels[l], s = Sizes[l], so = Sizes[l + 1], k = ColRows(l), cout = Channels[l + 1];
            var pt = patches[l].AsSpan(0, so * so * k);
            for (var oy = 0; oy < so; oy++)
                for (var ox = 0; ox < so; ox++)
                {
                    var patch = pt.Slice((oy * so + ox) * k, k);
                    var j = 0;
                    for (var ci = 0; ci < c; ci++)
                        for (var ky = 0; ky < Kernel; ky++)
                        {
                            var y = oy * Stride - Padding + ky;
                            if ((uint)y >= (uint)s)
                            {
                                patch.Slice(j, Kernel).Clear();
                                j += Kernel;
                                continue;
                            }
                            var line = x.Slice((ci * s + y) * s, s);
                            for (var kx = 0; kx < Kernel; kx++)
                            {
                                var xx = ox * Stride - Padding + kx;
                                patch[j++] = (uint)xx < (uint)s ? line[xx] : 0f;
                            }
                        }
                }
            var w = Weights[l].Span;
            var b = Biases[l].Span;
            var o = acts[l].AsSpan(0, cout * so * so);
            var positions = so * so;
            for (var co = 0; co < cout; co++)
            {
                var wr = w.Slice(co * k, k);
                var row = o.Slice(co * positions, positions);
                for (var p = 0; p < positions; p++)
                {
                    var v = TensorPrimitives.Dot(wr, pt.Slice(p * k, k)) + b[co];
                    row[p] = v > 0f ? v : 0f;
                }
            }
        }
        // [C, P] is already sample-major for a single image.
        acts[ConvLayers - 1].AsSpan(0, FeatureSize).CopyTo(features);
    }

    public int ColLength(int l, int batch) => ColRows(l) * batch * Sizes[l + 1] * Sizes[l + 1];

    public int ActLength(int l, int batch) => Channels[l + 1] * batch * Sizes[l + 1] * Sizes[l + 1];

    /// <summary>
    /// Backward through the convolution stack given ∂loss/∂features [B, FeatureSize]; accumulates into the conv
    /// weights' and biases' gradients. Needs the buffers filled by the matching <see cref="FeaturesForward"/>.
    /// </summary>
    public void FeaturesBackward(int batch, ReadOnlySpan<float> dFeatures, float[][] cols, float[][] acts, float[][] dActs, float[] dCol)
    {
        int c = Channels[ConvLayers], p = Sizes[ConvLayers] * Sizes[ConvLayers];
        var dLast = dActs[ConvLayers - 1].AsSpan();
        for (var b = 0; b < batch; b++)
            for (var ci = 0; ci < c; ci++)
                dFeatures.Slice(b * FeatureSize + ci * p, p).CopyTo(dLast.Slice((ci * batch + b) * p, p));
        for (var l = ConvLayers - 1; l >= 0; l--)
        {
            int cout = Channels[l + 1], k = ColRows(l), n = batch * Sizes[l + 1] * Sizes[l + 1];
            var dOut = dActs[l].AsSpan(0, cout * n);
            var act = acts[l].AsSpan(0, cout * n);
            for (var i = 0; i < dOut.Length; i++)
                if (act[i] <= 0f) dOut[i] = 0f;
            var wg = Weights[l].GradSpan;
            var bg = Biases[l].GradSpan;
            for (var co = 0; co < cout; co++) bg[co] += TensorPrimitives.Sum(dOut.Slice(co * n, n));
            Gemm.Multiply(false, true, cout, k, n, dOut, n, cols[l], n, wg, k, accumulate: true, threads: 1);
            if (l == 0) break;
            var dc = dCol.AsSpan(0, k * n);
            Gemm.Multiply(true, false, k, n, cout, Weights[l].Span, k, dOut, n, dc, n, threads: 1);
            var dIn = dActs[l - 1].AsSpan(0, ActLength(l - 1, batch));
            dIn.Clear();
            Col2ImAdd(l, batch, dc, dIn);
        }
    }
}
