namespace Rift.Nn;

public sealed partial class Graph
{
    private static int Axis(Tensor x, int axis, string op)
    {
        int a = axis < 0 ? x.Rank + axis : axis;
        if (a < 0 || a >= x.Rank) throw new ArgumentException($"{op}: axis {axis} is out of range for {x.Describe()}");
        return a;
    }

    private static (int outer, int inner) Split(int[] shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, inner);
    }

    /// <summary>Same data in a new shape (one dimension may be −1). Copies, so the input stays independent.</summary>
    public Tensor Reshape(Tensor x, params int[] shape)
    {
        shape = (int[])shape.Clone();
        int infer = Array.IndexOf(shape, -1);
        if (infer >= 0)
        {
            int rest = 1;
            for (int i = 0; i < shape.Length; i++) if (i != infer) rest *= shape[i];
            Need(rest > 0 && x.Size % rest == 0, $"Reshape: cannot view {x.Describe()} as {Tensor.ShapeString(shape)}");
            shape[infer] = x.Size / rest;
        }
        Need(Tensor.Product(shape) == x.Size, $"Reshape: cannot view {x.Describe()} ({x.Size} elements) as {Tensor.ShapeString(shape)}");
        var y = Out(shape, "reshape", x);
        x.Span.CopyTo(y.Span);
        Record(y, () => System.Numerics.Tensors.TensorPrimitives.Add(G(x), GOut(y), G(x)));
        return y;
    }

    /// <summary>Concatenates along <paramref name="axis"/>; all other dimensions must match.</summary>
    public Tensor Concat(int axis, params Tensor[] xs)
    {
        Need(xs.Length > 0, "Concat: no tensors");
        int ax = Axis(xs[0], axis, "Concat");
        var shape = (int[])xs[0].Shape.Clone();
        int total = 0;
        foreach (var x in xs)
        {
            bool ok = x.Rank == shape.Length;
            for (int i = 0; ok && i < shape.Length; i++) ok = i == ax || x.Shape[i] == shape[i];
            Need(ok, $"Concat: {x.Describe()} does not match {xs[0].Describe()} outside axis {ax}");
            total += x.Shape[ax];
        }
        shape[ax] = total;
        var (outer, inner) = Split(shape, ax);
        var y = Out(shape, "concat", xs);
        var ys = y.Span;
        int rowOut = total * inner, off = 0;
        foreach (var x in xs)
        {
            int len = x.Shape[ax] * inner;
            var xsp = x.Span;
            for (int o = 0; o < outer; o++) xsp.Slice(o * len, len).CopyTo(ys.Slice(o * rowOut + off, len));
            off += len;
        }
        Record(y, () =>
        {
            var gy = GOut(y);
            int off2 = 0;
            foreach (var x in xs)
            {
                int len = x.Shape[ax] * inner;
                if (x.RequiresGrad)
                {
                    var gx = G(x);
                    for (int o = 0; o < outer; o++)
                    {
                        var dst = gx.Slice(o * len, len);
                        System.Numerics.Tensors.TensorPrimitives.Add(dst, gy.Slice(o * rowOut + off2, len), dst);
                    }
                }
                off2 += len;
            }
        });
        return y;
    }

    /// <summary>Concatenates along the last axis (e.g. state ⊕ action).</summary>
    public Tensor Concat(params Tensor[] xs) => Concat(-1, xs);

    /// <summary>Elements [start, start+length) along <paramref name="axis"/>.</summary>
    public Tensor Slice(Tensor x, int axis, int start, int length)
    {
        int ax = Axis(x, axis, "Slice");
        Need(start >= 0 && length >= 0 && start + length <= x.Shape[ax],
            $"Slice: [{start}, {start + length}) is out of range for axis {ax} of {x.Describe()}");
        var shape = (int[])x.Shape.Clone();
        shape[ax] = length;
        var (outer, inner) = Split(shape, ax);
        var y = Out(shape, "slice", x);
        int rowIn = x.Shape[ax] * inner, len = length * inner, off = start * inner;
        var xs = x.Span;
        var ys = y.Span;
        for (int o = 0; o < outer; o++) xs.Slice(o * rowIn + off, len).CopyTo(ys.Slice(o * len, len));
        Record(y, () =>
        {
            var gx = G(x);
            var gy = GOut(y);
            for (int o = 0; o < outer; o++)
            {
                var dst = gx.Slice(o * rowIn + off, len);
                System.Numerics.Tensors.TensorPrimitives.Add(dst, gy.Slice(o * len, len), dst);
            }
        });
        return y;
    }
}
