using System.Numerics.Tensors;
using Tensor = Rift.Nn.Tensor;
using Rift.Nn;

namespace Rift.ValueCritic;

/// <summary>
/// Single-sample inference for an <see cref="Mlp"/> (Linear → [LayerNorm] → activation …) with preallocated
/// buffers: no graph, no allocation per call. Reads the module's live weights. Not thread-safe.
/// </summary>
public sealed class MlpEvaluator
{
    private readonly Mlp _mlp;
    private readonly float[] _a;
    private readonly float[] _b;

    public MlpEvaluator(Mlp mlp)
    {
        _mlp = mlp ?? throw new ArgumentNullException(nameof(mlp));
        var width = Math.Max(mlp.InputSize, mlp.Layers.Max(l => l.OutFeatures));
        _a = new float[width];
        _b = new float[width];
    }

    public int InputSize => _mlp.InputSize;
    public int OutputSize => _mlp.OutputSize;

    public void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.Length != _mlp.InputSize) throw new ArgumentException($"MLP input has {x.Length} values, expected {_mlp.InputSize}.", nameof(x));
        if (y.Length != _mlp.OutputSize) throw new ArgumentException($"MLP output buffer has {y.Length} values, expected {_mlp.OutputSize}.", nameof(y));
        ReadOnlySpan<float> input = x;
        var layers = _mlp.Layers;
        for (var i = 0; i < layers.Count; i++)
        {
            var lin = layers[i];
            var last = i == layers.Count - 1;
            var output = last ? y : (i % 2 == 0 ? _a : _b).AsSpan(0, lin.OutFeatures);
            var w = lin.Weight.Span;
            var n = lin.InFeatures;
            for (var o = 0; o < output.Length; o++) output[o] = TensorPrimitives.Dot(w.Slice(o * n, n), input);
            if (lin.Bias is not null) TensorPrimitives.Add(output, lin.Bias.Span, output);
            if (!last && _mlp.Norms.Count > 0) Norm(output, _mlp.Norms[i]);
            Activate(output, last ? _mlp.OutputActivation : _mlp.HiddenActivation);
            input = output;
        }
    }

    /// <summary>LayerNorm over <paramref name="v"/>, optionally with an affine map (eps 1e-5 like torch).</summary>
    public static void Norm(Span<float> v, LayerNorm? ln = null, float eps = 1e-5f)
    {
        var mean = TensorPrimitives.Sum(v) / v.Length;
        TensorPrimitives.Subtract(v, mean, v);
        var variance = TensorPrimitives.SumOfSquares(v) / v.Length;
        TensorPrimitives.Multiply(v, 1f / MathF.Sqrt(variance + eps), v);
        if (ln is not null)
        {
            TensorPrimitives.Multiply(v, ln.Weight.Span, v);
            TensorPrimitives.Add(v, ln.Bias.Span, v);
        }
    }

    private static void Activate(Span<float> v, Activation act)
    {
        switch (act)
        {
            case Activation.None: break;
            case Activation.Relu: TensorPrimitives.Max(v, 0f, v); break;
            case Activation.Tanh: TensorPrimitives.Tanh(v, v); break;
            case Activation.Sigmoid: TensorPrimitives.Sigmoid(v, v); break;
            default: throw new NotSupportedException($"MlpEvaluator does not implement activation {act}.");
        }
    }
}
