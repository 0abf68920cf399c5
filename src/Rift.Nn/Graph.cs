using System.Numerics.Tensors;

namespace Rift.Nn;

/// <summary>
/// Tape for reverse-mode autodiff and an arena for intermediate tensors. Operations on a graph compute
/// forward immediately and record how to propagate gradients; <see cref="Backward"/> runs the tape in reverse
/// and accumulates into every tensor with <see cref="Tensor.RequiresGrad"/> (parameters keep accumulating
/// until zeroed, as in PyTorch). <see cref="Reset"/> clears the tape and recycles intermediate buffers, so a
/// training loop that repeats the same shapes allocates almost nothing per step. Tensors produced by a graph
/// are valid until its next <see cref="Reset"/>. Not thread-safe: one graph per thread.
/// </summary>
public sealed partial class Graph
{
    private readonly List<Tensor> _arena = [];
    private int _cursor;
    private readonly List<(Tensor output, Action backward)> _tape = [];
    private int _opCount;

    /// <param name="gradEnabled">False records nothing (inference, like <c>torch.no_grad</c>).</param>
    public Graph(bool gradEnabled = true)
    {
        GradEnabled = gradEnabled;
    }

    /// <summary>When false, operations record no backward steps and outputs never require grad.</summary>
    public bool GradEnabled { get; set; }

    /// <summary>When true, every operation checks its output and throws <see cref="NonFiniteException"/> naming the op.</summary>
    public bool CheckFiniteEnabled { get; set; }

    /// <summary>Number of recorded backward steps.</summary>
    public int TapeLength => _tape.Count;

    /// <summary>Clears the tape and recycles intermediate tensors (they become invalid).</summary>
    public void Reset()
    {
        _tape.Clear();
        _cursor = 0;
        _opCount = 0;
    }

    /// <summary>
    /// Back-propagates from a one-element tensor: its gradient is seeded with 1 and every tensor that requires
    /// grad receives ∂loss/∂tensor (accumulated into parameters' <see cref="Tensor.Grad"/>).
    /// </summary>
    public void Backward(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (loss.Size != 1) throw new ArgumentException($"Backward needs a one-element loss, got {loss.Describe()}");
        if (!loss.RequiresGrad) throw new InvalidOperationException($"Backward: loss {loss.Describe()} does not depend on any tensor that requires grad");
        for (int i = 0; i < _cursor; i++)
        {
            var t = _arena[i];
            t.GradTouched = false;
            if (!t.RequiresGrad) continue;
            t.EnsureGrad();
            Array.Clear(t.Grad!, 0, t.Size);
        }
        loss.EnsureGrad();
        loss.Grad![0] = 1f;
        loss.GradTouched = true;
        for (int i = _tape.Count - 1; i >= 0; i--)
        {
            var (output, backward) = _tape[i];
            if (output.GradTouched) backward();
        }
    }

    // ---- infrastructure for operations ----

    internal Tensor Alloc(int[] shape, bool requiresGrad, string op)
    {
        int size = Tensor.Product(shape);
        Tensor t;
        if (_cursor < _arena.Count)
        {
            t = _arena[_cursor];
            t.Reshape(shape, size);
        }
        else
        {
            t = new Tensor(shape);
            _arena.Add(t);
        }
        _cursor++;
        t.RequiresGrad = requiresGrad && GradEnabled;
        t.GradTouched = false;
        t.Name = op;
        return t;
    }

    /// <summary>A scratch tensor owned by the graph that never requires grad (saved statistics etc.).</summary>
    internal Tensor Scratch(int[] shape) => Alloc(shape, false, "scratch");

    private Tensor Out(int[] shape, string op, params Tensor[] inputs)
    {
        bool rg = false;
        foreach (var x in inputs) rg |= x.RequiresGrad;
        return Alloc(shape, rg, op);
    }

    private Tensor Out(int[] shape, string op, Tensor a) => Alloc(shape, a.RequiresGrad, op);

    private Tensor Out(int[] shape, string op, Tensor a, Tensor b) => Alloc(shape, a.RequiresGrad || b.RequiresGrad, op);

    private void Record(Tensor output, Action backward)
    {
        if (CheckFiniteEnabled) output.CheckFinite($"{output.Name} (op #{_opCount})");
        _opCount++;
        if (output.RequiresGrad) _tape.Add((output, backward));
    }

    /// <summary>Gradient span of <paramref name="t"/> for accumulation; marks it as reached.</summary>
    internal static Span<float> G(Tensor t)
    {
        t.EnsureGrad();
        t.GradTouched = true;
        return t.Grad.AsSpan(0, t.Size);
    }

    internal static ReadOnlySpan<float> GOut(Tensor t) => t.Grad.AsSpan(0, t.Size);

    private static void Need(bool ok, string message)
    {
        if (!ok) throw new ArgumentException(message);
    }

    // ---- graph-level helpers ----

    /// <summary>Same values, no gradient flow (shares storage).</summary>
    public Tensor Detach(Tensor x) => new(x.Shape, x.Data, false, x.Name);

    /// <summary>A graph-owned copy of <paramref name="values"/> (no grad).</summary>
    public Tensor Constant(ReadOnlySpan<float> values, params int[] shape)
    {
        var t = Alloc(shape, false, "constant");
        Need(values.Length == t.Size, $"Constant: {values.Length} values do not fill shape {Tensor.ShapeString(shape)}");
        values.CopyTo(t.Span);
        return t;
    }

    /// <summary>A graph-owned tensor filled with <paramref name="value"/> (no grad).</summary>
    public Tensor Full(float value, params int[] shape)
    {
        var t = Alloc(shape, false, "full");
        t.Span.Fill(value);
        return t;
    }
}
