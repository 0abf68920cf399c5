using System.Numerics.Tensors;

namespace Rift.Nn;

/// <summary>
/// Allocation-free forward pass of an <see cref="Mlp"/> for per-step use in the control loop: buffers are
/// allocated once for up to <see cref="MaxBatch"/> rows and reused. Reads the module's live weights, so it
/// follows training updates without rebuilding. Not thread-safe: one instance per thread.
/// </summary>
public sealed class MlpInference
{
    private readonly Mlp _mlp;
    private readonly float[] _a;
    private readonly float[] _b;

    public int MaxBatch { get; }
    public int InputSize => _mlp.InputSize;
    public int OutputSize => _mlp.OutputSize;

    public MlpInference(Mlp mlp, int maxBatch = 1)
    {
        ArgumentNullException.ThrowIfNull(mlp);
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "maxBatch must be ≥ 1");
        _mlp = mlp;
        MaxBatch = maxBatch;
        int width = mlp.Layers.Max(l => l.OutFeatures);
        _a = new float[maxBatch * width];
        _b = new float[maxBatch * width];
    }

    /// <summary>Forward of <paramref name="batch"/> rows: input [batch, in] → output [batch, out].</summary>
    public void Run(ReadOnlySpan<float> input, Span<float> output, int batch = 1)
    {
        if (batch < 1 || batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be in [1, {MaxBatch}]");
        if (input.Length < batch * InputSize) throw new ArgumentException($"MlpInference: input has {input.Length} values, batch {batch} × {InputSize} needed");
        if (output.Length < batch * OutputSize) throw new ArgumentException($"MlpInference: output has {output.Length} values, batch {batch} × {OutputSize} needed");
        var layers = _mlp.Layers;
        ReadOnlySpan<float> x = input[..(batch * InputSize)];
        bool useA = true;
        for (int l = 0; l < layers.Count; l++)
        {
            var lin = layers[l];
            bool last = l == layers.Count - 1;
            int outF = lin.OutFeatures, inF = lin.InFeatures;
            Span<float> y = last ? output[..(batch * outF)] : (useA ? _a : _b).AsSpan(0, batch * outF);
            Gemm.Multiply(false, true, batch, outF, inF, x, inF, lin.Weight.Span, inF, y, outF);
            if (lin.Bias is not null)
                for (int r = 0; r < batch; r++)
                {
                    var row = y.Slice(r * outF, outF);
                    TensorPrimitives.Add(row, lin.Bias.Span, row);
                }
            if (!last)
            {
                if (_mlp.Norms.Count > 0) LayerNormRows(y, batch, outF, _mlp.Norms[l]);
                Activate(y, _mlp.HiddenActivation);
            }
            else Activate(y, _mlp.OutputActivation);
            x = y;
            useA = !useA;
        }
    }

    private static void LayerNormRows(Span<float> y, int rows, int d, LayerNorm ln)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = y.Slice(r * d, d);
            float mean = TensorPrimitives.Sum(row) / d;
            TensorPrimitives.Subtract(row, mean, row);
            float rstd = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / d + ln.Eps);
            TensorPrimitives.Multiply(row, rstd, row);
            TensorPrimitives.Multiply(row, ln.Weight.Span, row);
            TensorPrimitives.Add(row, ln.Bias.Span, row);
        }
    }

    private static void Activate(Span<float> y, Activation act)
    {
        switch (act)
        {
            case Activation.None: break;
            case Activation.Relu: TensorPrimitives.Max(y, 0f, y); break;
            case Activation.Tanh: TensorPrimitives.Tanh(y, y); break;
            case Activation.Sigmoid: TensorPrimitives.Sigmoid(y, y); break;
            case Activation.Gelu:
                for (int i = 0; i < y.Length; i++) y[i] = (float)(y[i] * SpecialFunctions.NormalCdf(y[i]));
                break;
            default: throw new ArgumentOutOfRangeException(nameof(act), act, "unknown activation");
        }
    }
}
