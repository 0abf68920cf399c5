using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Rift.Nn;

/// <summary>
/// Adam with torch.optim.Adam semantics (single-tensor path): L2 weight decay added to the gradient,
/// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ − (lr/(1−β1ᵗ))·m / (√v/√(1−β2ᵗ) + ε).
/// Parameters that do not require grad (frozen) or have no gradient are skipped.
/// </summary>
public sealed class Adam
{
    private readonly Tensor[] _params;
    private readonly float[][] _m;
    private readonly float[][] _v;
    private readonly int[] _steps;

    public float LearningRate { get; set; }
    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Eps { get; }
    public float WeightDecay { get; }

    /// <summary>Number of <see cref="Step"/> calls so far.</summary>
    public int StepCount { get; private set; }

    public IReadOnlyList<Tensor> Parameters => _params;

    public Adam(IEnumerable<Tensor> parameters, float lr = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float eps = 1e-8f, float weightDecay = 0f)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "Adam: learning rate must be ≥ 0");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Adam: beta1 must be in [0, 1)");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Adam: beta2 must be in [0, 1)");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "Adam: eps must be ≥ 0");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Adam: weight decay must be ≥ 0");
        _params = parameters.Distinct().ToArray();
        _m = _params.Select(p => new float[p.Size]).ToArray();
        _v = _params.Select(p => new float[p.Size]).ToArray();
        _steps = new int[_params.Length];
        LearningRate = lr;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        WeightDecay = weightDecay;
    }

    public void ZeroGrad()
    {
        foreach (var p in _params) p.ZeroGrad();
    }

    /// <summary>Moments and per-parameter step counts, in parameter order (for checkpoints that resume bit-for-bit).</summary>
    public (float[][] M, float[][] V, int[] Steps, int StepCount) ExportState() =>
        (_m.Select(a => (float[])a.Clone()).ToArray(), _v.Select(a => (float[])a.Clone()).ToArray(), (int[])_steps.Clone(), StepCount);

    /// <summary>Restores a state from <see cref="ExportState"/>; sizes must match this optimiser's parameters.</summary>
    public void ImportState(float[][] m, float[][] v, int[] steps, int stepCount)
    {
        if (m.Length != _params.Length || v.Length != _params.Length || steps.Length != _params.Length)
            throw new ArgumentException($"Adam: state has {m.Length} tensors, the optimiser has {_params.Length} parameters");
        for (int i = 0; i < _params.Length; i++)
        {
            if (m[i].Length != _m[i].Length || v[i].Length != _v[i].Length)
                throw new ArgumentException($"Adam: state tensor {i} has {m[i].Length} values, parameter '{_params[i].Name}' has {_m[i].Length}");
            m[i].CopyTo(_m[i], 0);
            v[i].CopyTo(_v[i], 0);
        }
        steps.CopyTo(_steps, 0);
        StepCount = stepCount;
    }

    public void Step()
    {
        StepCount++;
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i];
            if (!p.RequiresGrad || p.Grad is null) continue;
            int t = ++_steps[i];
            var theta = p.Span;
            var g = p.Grad.AsSpan(0, p.Size);
            var m = _m[i].AsSpan();
            var v = _v[i].AsSpan();
            double bc1 = 1 - Math.Pow(Beta1, t);
            double bc2 = 1 - Math.Pow(Beta2, t);
            float stepSize = (float)(LearningRate / bc1);
            float b1 = Beta1, b2 = Beta2, omb1 = (float)(1.0 - Beta1), omb2 = (float)(1.0 - Beta2), eps = Eps, wd = WeightDecay;
            float bc2Sqrt = (float)Math.Sqrt(bc2);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var vb1 = Vector512.Create(b1); var vb2 = Vector512.Create(b2);
                var vomb1 = Vector512.Create(omb1); var vomb2 = Vector512.Create(omb2);
                var veps = Vector512.Create(eps); var vwd = Vector512.Create(wd);
                var vbc2 = Vector512.Create(bc2Sqrt); var vstep = Vector512.Create(stepSize);
                for (; j + 16 <= theta.Length; j += 16)
                {
                    var th = Vector512.Create(theta.Slice(j, 16));
                    var gj = Vector512.Create(g.Slice(j, 16));
                    if (wd != 0f) gj += vwd * th;
                    var mj = Vector512.Create(m.Slice(j, 16)) * vb1 + vomb1 * gj;
                    var vj = Vector512.Create(v.Slice(j, 16)) * vb2 + vomb2 * gj * gj;
                    mj.CopyTo(m.Slice(j, 16));
                    vj.CopyTo(v.Slice(j, 16));
                    var denom = Vector512.Sqrt(vj) / vbc2 + veps;
                    (th - vstep * (mj / denom)).CopyTo(theta.Slice(j, 16));
                }
            }
            for (; j < theta.Length; j++)
            {
                float gj = wd != 0f ? g[j] + wd * theta[j] : g[j];
                float mj = m[j] * b1 + omb1 * gj;
                float vj = v[j] * b2 + omb2 * gj * gj;
                m[j] = mj;
                v[j] = vj;
                float denom = MathF.Sqrt(vj) / bc2Sqrt + eps;
                theta[j] -= stepSize * (mj / denom);
            }
        }
    }
}

/// <summary>Gradient utilities.</summary>
public static class Optim
{
    /// <summary>√(Σ‖g‖²) over all gradients (parameters without a gradient count as zero).</summary>
    public static float GlobalGradNorm(IEnumerable<Tensor> parameters)
    {
        double s = 0;
        foreach (var p in parameters)
            if (p.Grad is not null)
            {
                var g = p.Grad.AsSpan(0, p.Size);
                s += TensorPrimitives.SumOfSquares(g);
            }
        return (float)Math.Sqrt(s);
    }

    /// <summary>
    /// torch.nn.utils.clip_grad_norm_: if the global norm exceeds <paramref name="maxNorm"/>, scales all
    /// gradients by maxNorm/(norm + 1e-6). Returns the norm before clipping.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "ClipGradNorm: maxNorm must be positive");
        var list = parameters as IReadOnlyList<Tensor> ?? parameters.ToList();
        float norm = GlobalGradNorm(list);
        float coef = maxNorm / (norm + 1e-6f);
        if (coef < 1f)
            foreach (var p in list)
                if (p.Grad is not null)
                {
                    var g = p.Grad.AsSpan(0, p.Size);
                    TensorPrimitives.Multiply(g, coef, g);
                }
        return norm;
    }
}
