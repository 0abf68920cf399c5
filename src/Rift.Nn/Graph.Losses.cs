using System.Numerics.Tensors;

namespace Rift.Nn;

public sealed partial class Graph
{
    private static void SameShape(string op, Tensor a, Tensor b)
    {
        if (!Tensor.SameShape(a.Shape, b.Shape))
            throw new ArgumentException($"{op}: prediction {Tensor.ShapeString(a.Shape)} and target {Tensor.ShapeString(b.Shape)} must have the same shape");
    }

    /// <summary>Mean squared error, mean over all elements (torch mse_loss).</summary>
    public Tensor MseLoss(Tensor pred, Tensor target)
    {
        SameShape("MseLoss", pred, target);
        var y = Out([], "mse_loss", pred, target);
        int n = pred.Size;
        double s = 0;
        var p = pred.Span;
        var t = target.Span;
        for (int i = 0; i < n; i++)
        {
            double d = p[i] - t[i];
            s += d * d;
        }
        y.Data[0] = (float)(s / n);
        Record(y, () =>
        {
            float c = 2f * y.Grad![0] / n;
            var pv = pred.Span;
            var tv = target.Span;
            if (pred.RequiresGrad)
            {
                var g = G(pred);
                for (int i = 0; i < n; i++) g[i] += c * (pv[i] - tv[i]);
            }
            if (target.RequiresGrad)
            {
                var g = G(target);
                for (int i = 0; i < n; i++) g[i] -= c * (pv[i] - tv[i]);
            }
        });
        return y;
    }

    /// <summary>Huber loss (torch huber_loss): ½d² for |d| &lt; δ, else δ(|d| − ½δ); mean.</summary>
    public Tensor HuberLoss(Tensor pred, Tensor target, float delta = 1f)
    {
        SameShape("HuberLoss", pred, target);
        Need(delta > 0, $"HuberLoss: delta must be positive, got {delta}");
        var y = Out([], "huber_loss", pred, target);
        int n = pred.Size;
        double s = 0;
        var p = pred.Span;
        var t = target.Span;
        for (int i = 0; i < n; i++)
        {
            double d = p[i] - t[i], ad = Math.Abs(d);
            s += ad < delta ? 0.5 * d * d : delta * (ad - 0.5 * delta);
        }
        y.Data[0] = (float)(s / n);
        Record(y, () =>
        {
            float c = y.Grad![0] / n;
            var pv = pred.Span;
            var tv = target.Span;
            Span<float> gp = pred.RequiresGrad ? G(pred) : default;
            Span<float> gt = target.RequiresGrad ? G(target) : default;
            for (int i = 0; i < n; i++)
            {
                float d = pv[i] - tv[i];
                float gd = c * (MathF.Abs(d) < delta ? d : delta * MathF.Sign(d));
                if (pred.RequiresGrad) gp[i] += gd;
                if (target.RequiresGrad) gt[i] -= gd;
            }
        });
        return y;
    }

    /// <summary>Elementwise binary cross-entropy on logits, stable form max(x,0) − x·t + log(1 + e^−|x|).</summary>
    public Tensor BceWithLogitsElementwise(Tensor logits, Tensor targets)
    {
        SameShape("BceWithLogits", logits, targets);
        var y = Out(logits.Shape, "bce_with_logits", logits, targets);
        var x = logits.Span;
        var t = targets.Span;
        var ys = y.Span;
        for (int i = 0; i < ys.Length; i++) ys[i] = MathF.Max(x[i], 0f) - x[i] * t[i] + MathF.Log(1f + MathF.Exp(-MathF.Abs(x[i])));
        Record(y, () =>
        {
            var gy = GOut(y);
            var xv = logits.Span;
            var tv = targets.Span;
            if (logits.RequiresGrad)
            {
                var g = G(logits);
                for (int i = 0; i < g.Length; i++) g[i] += gy[i] * (SigmoidF(xv[i]) - tv[i]);
            }
            if (targets.RequiresGrad)
            {
                var g = G(targets);
                for (int i = 0; i < g.Length; i++) g[i] -= gy[i] * xv[i];
            }
        });
        return y;
    }

    /// <summary>Mean binary cross-entropy on logits (torch binary_cross_entropy_with_logits).</summary>
    public Tensor BceWithLogits(Tensor logits, Tensor targets) => Mean(BceWithLogitsElementwise(logits, targets));

    /// <summary>
    /// Sigmoid focal loss (Lin et al.; torchvision sigmoid_focal_loss, mean reduction):
    /// CE·(1 − p_t)^γ·α_t with p_t = p·t + (1−p)(1−t), α_t = α·t + (1−α)(1−t); α &lt; 0 disables weighting.
    /// </summary>
    public Tensor FocalLoss(Tensor logits, Tensor targets, float alpha = 0.25f, float gamma = 2f)
    {
        var ce = BceWithLogitsElementwise(logits, targets);
        var p = Sigmoid(logits);
        // 1 − p_t = t − p·(2t − 1)
        var twoTm1 = AddScalar(Scale(targets, 2f), -1f);
        var oneMinusPt = Sub(targets, Mul(p, twoTm1));
        var loss = Mul(ce, Pow(oneMinusPt, gamma));
        if (alpha >= 0)
        {
            var alphaT = AddScalar(Scale(targets, 2f * alpha - 1f), 1f - alpha);
            loss = Mul(loss, alphaT);
        }
        return Mean(loss);
    }

    /// <summary>Mean absolute error (torch l1_loss); the gradient at d = 0 is 0.</summary>
    public Tensor L1Loss(Tensor pred, Tensor target)
    {
        SameShape("L1Loss", pred, target);
        return Mean(Abs(Sub(pred, target)));
    }

    /// <summary>
    /// Mean binary cross-entropy on probabilities (torch binary_cross_entropy): each log term is clamped at
    /// −100 like torch, so p = 0 or 1 gives a finite loss.
    /// </summary>
    public Tensor BceLoss(Tensor probs, Tensor targets)
    {
        SameShape("BceLoss", probs, targets);
        var y = Out([], "bce_loss", probs, targets);
        int n = probs.Size;
        var p = probs.Span;
        var t = targets.Span;
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            double lp = Math.Max(Math.Log(p[i]), -100.0), l1p = Math.Max(Math.Log(1.0 - p[i]), -100.0);
            s -= t[i] * lp + (1 - t[i]) * l1p;
        }
        y.Data[0] = (float)(s / n);
        Record(y, () =>
        {
            float c = y.Grad![0] / n;
            var pv = probs.Span;
            var tv = targets.Span;
            if (probs.RequiresGrad)
            {
                var g = G(probs);
                // torch clamps the denominator p(1−p) at 1e-12.
                for (int i = 0; i < n; i++) g[i] += c * (pv[i] - tv[i]) / MathF.Max(pv[i] * (1f - pv[i]), 1e-12f);
            }
            if (targets.RequiresGrad)
            {
                var g = G(targets);
                for (int i = 0; i < n; i++) g[i] -= c * (MathF.Max(MathF.Log(pv[i]), -100f) - MathF.Max(MathF.Log(1f - pv[i]), -100f));
            }
        });
        return y;
    }

    /// <summary>log softmax over the last axis (stable: x − max − log Σ e^(x − max)).</summary>
    public Tensor LogSoftmax(Tensor x)
    {
        Need(x.Rank >= 1 && x.Shape[^1] > 0, $"LogSoftmax: needs a non-empty last axis, got {x.Describe()}");
        int d = x.Shape[^1], rows = x.Size / d;
        var y = Out(x.Shape, "log_softmax", x);
        var xs = x.Span;
        var ys = y.Span;
        for (int r = 0; r < rows; r++)
        {
            var xr = xs.Slice(r * d, d);
            var yr = ys.Slice(r * d, d);
            float max = TensorPrimitives.Max(xr);
            TensorPrimitives.Subtract(xr, max, yr);
            double sum = 0;
            for (int i = 0; i < d; i++) sum += Math.Exp(yr[i]);
            TensorPrimitives.Subtract(yr, (float)Math.Log(sum), yr);
        }
        Record(y, () =>
        {
            var gx = G(x);
            var gy = GOut(y);
            var yv = y.Span;
            for (int r = 0; r < rows; r++)
            {
                var gyr = gy.Slice(r * d, d);
                float s = TensorPrimitives.Sum(gyr);
                for (int i = 0; i < d; i++) gx[r * d + i] += gyr[i] - MathF.Exp(yv[r * d + i]) * s;
            }
        });
        return y;
    }

    /// <summary>Softmax over the last axis.</summary>
    public Tensor Softmax(Tensor x) => Exp(LogSoftmax(x));

    // ---- distributions ----

    private const float HalfLog2Pi = 0.91893853320467274178f;
    private const float Log2 = 0.69314718055994530942f;

    /// <summary>Elementwise log N(x; μ, σ = e^logStd). logStd may broadcast (row vector or scalar).</summary>
    public Tensor NormalLogProb(Tensor x, Tensor mu, Tensor logStd)
    {
        var z = Mul(Sub(x, mu), Exp(Neg(logStd)));
        return AddScalar(Sub(Scale(Square(z), -0.5f), logStd), -HalfLog2Pi);
    }

    /// <summary>
    /// Reparameterised sample from the tanh-squashed Gaussian (SAC): u = μ + σ·ε, a = tanh(u), and
    /// log π(a) = Σ_dims [log N(u; μ, σ) − log(1 − tanh²u)] with the stable form
    /// log(1 − tanh²u) = 2(log 2 − u − softplus(−2u)). <paramref name="noise"/> holds ε ~ N(0, 1), shape of μ.
    /// Returns the action [B, A] and its log-probability [B, 1].
    /// </summary>
    public (Tensor action, Tensor logProb) SampleTanhNormal(Tensor mu, Tensor logStd, Tensor noise)
    {
        Need(Tensor.SameShape(mu.Shape, noise.Shape), $"SampleTanhNormal: noise {Tensor.ShapeString(noise.Shape)} must have the shape of mu {Tensor.ShapeString(mu.Shape)}");
        var u = Add(mu, Mul(Exp(logStd), noise));
        var action = Tanh(u);
        var logProb = TanhNormalLogProbFromPreTanh(u, mu, logStd);
        return (action, logProb);
    }

    /// <summary>log π(tanh u) of the squashed Gaussian given the pre-tanh value u, summed over the last axis (keepDim).</summary>
    public Tensor TanhNormalLogProbFromPreTanh(Tensor u, Tensor mu, Tensor logStd)
    {
        var lp = NormalLogProb(u, mu, logStd);
        // log(1 − tanh²u) = 2(log 2 − u − softplus(−2u))
        var corr = Scale(RSub(Log2, Add(u, Softplus(Scale(u, -2f)))), 2f);
        return Sum(Sub(lp, corr), -1, keepDim: true);
    }

    /// <summary>
    /// log π(a) of a given squashed action a ∈ (−1, 1) (e.g. a stored or prior action); a is clipped to
    /// ±(1 − <paramref name="clip"/>) before atanh.
    /// </summary>
    public Tensor TanhNormalLogProb(Tensor action, Tensor mu, Tensor logStd, float clip = 1e-6f)
    {
        var u = Atanh(Clamp(action, -1f + clip, 1f - clip));
        return TanhNormalLogProbFromPreTanh(u, mu, logStd);
    }
}
