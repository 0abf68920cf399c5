namespace Rift.Nn;

/// <summary>
/// A float32 tensor: row-major data with an explicit shape. Parameters are tensors with
/// <see cref="RequiresGrad"/> set; graph operations produce tensors that live until the graph's next
/// <see cref="Graph.Reset"/>. Rank-0 tensors (shape <c>[]</c>) hold one scalar.
/// </summary>
public sealed class Tensor
{
    private int[] _shape;

    /// <summary>Backing store; may be longer than <see cref="Size"/> when a graph reuses a buffer.</summary>
    public float[] Data { get; internal set; }

    /// <summary>Gradient buffer (same layout as <see cref="Data"/>), allocated on demand.</summary>
    public float[]? Grad { get; internal set; }

    /// <summary>Whether gradients flow into this tensor. False freezes a parameter.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>Name used in error messages, <see cref="NonFiniteException"/> and safetensors files.</summary>
    public string? Name { get; set; }

    /// <summary>Number of elements (product of the shape).</summary>
    public int Size { get; private set; }

    public Tensor(int[] shape, float[]? data = null, bool requiresGrad = false, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        _shape = (int[])shape.Clone();
        Size = Product(_shape);
        if (data is not null && data.Length < Size)
            throw new ArgumentException($"tensor {name ?? "<unnamed>"}: data has {data.Length} elements but shape {ShapeString(shape)} needs {Size}");
        Data = data ?? new float[Size];
        RequiresGrad = requiresGrad;
        Name = name;
        if (requiresGrad) Grad = new float[Size];
    }

    /// <summary>The shape (do not modify the returned array).</summary>
    public int[] Shape => _shape;

    public int Rank => _shape.Length;

    /// <summary>Span over the live elements.</summary>
    public Span<float> Span => Data.AsSpan(0, Size);

    /// <summary>Span over the live gradient elements (allocates the gradient buffer if missing).</summary>
    public Span<float> GradSpan
    {
        get
        {
            EnsureGrad();
            return Grad!.AsSpan(0, Size);
        }
    }

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Dim(int dim) => _shape[dim < 0 ? _shape.Length + dim : dim];

    /// <summary>Value of a one-element tensor.</summary>
    public float Item()
    {
        if (Size != 1) throw new InvalidOperationException($"Item() needs a one-element tensor, {Describe()} has {Size}");
        return Data[0];
    }

    [System.Runtime.CompilerServices.IndexerName("At")]
    public float this[int i]
    {
        get => Data[i];
        set => Data[i] = value;
    }

    [System.Runtime.CompilerServices.IndexerName("At")]
    public float this[int i, int j]
    {
        get => Data[i * _shape[1] + j];
        set => Data[i * _shape[1] + j] = value;
    }

    // ---- construction helpers ----

    public static Tensor Zeros(params int[] shape) => new(shape);

    public static Tensor Scalar(float value, bool requiresGrad = false, string? name = null) =>
        new([], [value], requiresGrad, name);

    /// <summary>Copies <paramref name="values"/> into a new tensor of the given shape.</summary>
    public static Tensor FromArray(float[] values, params int[] shape)
    {
        var t = new Tensor(shape);
        if (values.Length != t.Size)
            throw new ArgumentException($"FromArray: {values.Length} values do not fill shape {ShapeString(shape)} ({t.Size} elements)");
        values.CopyTo(t.Data, 0);
        return t;
    }

    /// <summary>A learnable tensor (gradient buffer allocated).</summary>
    public static Tensor Parameter(int[] shape, string? name = null) => new(shape, null, true, name);

    public Tensor Clone()
    {
        var t = new Tensor(_shape, null, RequiresGrad, Name);
        Span.CopyTo(t.Data);
        return t;
    }

    public float[] ToArray() => Span.ToArray();

    /// <summary>Overwrites the elements with <paramref name="values"/> (length must equal <see cref="Size"/>).</summary>
    public void CopyFrom(ReadOnlySpan<float> values)
    {
        if (values.Length != Size) throw new ArgumentException($"CopyFrom: {values.Length} values for {Describe()} with {Size} elements");
        values.CopyTo(Span);
    }

    public void ZeroGrad()
    {
        if (Grad is not null) Array.Clear(Grad, 0, Size);
    }

    internal bool GradTouched;

    internal void EnsureGrad()
    {
        if (Grad is null || Grad.Length < Size) Grad = new float[Math.Max(Size, 1)];
    }

    /// <summary>Reuses this tensor object for a new shape (graph arena); keeps buffers when large enough.</summary>
    internal void Reshape(int[] shape, int size)
    {
        if (_shape.Length != shape.Length) _shape = new int[shape.Length];
        shape.CopyTo(_shape, 0);
        Size = size;
        if (Data.Length < size) Data = new float[size];
    }

    internal void SetShapeView(int[] shape)
    {
        if (Product(shape) != Size) throw new ArgumentException($"cannot view {Describe()} as {ShapeString(shape)}");
        _shape = (int[])shape.Clone();
    }

    /// <summary>Throws <see cref="NonFiniteException"/> naming this tensor if any element is NaN or infinite.</summary>
    public void CheckFinite(string? what = null)
    {
        int i = FirstNonFinite(Span);
        if (i >= 0) throw new NonFiniteException(what ?? Name ?? "<unnamed>", _shape, i, Data[i]);
    }

    internal static int FirstNonFinite(ReadOnlySpan<float> s)
    {
        // Finite floats have exponent bits not all ones; x - x is 0 for finite x and NaN otherwise.
        for (int i = 0; i < s.Length; i++)
            if (!float.IsFinite(s[i])) return i;
        return -1;
    }

    public string Describe() => $"{Name ?? "tensor"}{ShapeString(_shape)}";

    public override string ToString() => Describe();

    public static string ShapeString(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    internal static int Product(ReadOnlySpan<int> shape)
    {
        long p = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape {ShapeString(shape)}");
            p *= d;
            if (p > int.MaxValue) throw new ArgumentException($"shape {ShapeString(shape)} has too many elements");
        }
        return (int)p;
    }

    internal static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);
}

/// <summary>Thrown when a tensor holds NaN or infinity; names the tensor and the first bad element.</summary>
public sealed class NonFiniteException(string tensorName, int[] shape, int index, float value)
    : Exception($"non-finite value {value} in tensor '{tensorName}' {Tensor.ShapeString(shape)} at flat index {index}")
{
    public string TensorName { get; } = tensorName;
    public int Index { get; } = index;
}
