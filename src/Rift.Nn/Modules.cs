using System.Numerics.Tensors;

namespace Rift.Nn;

/// <summary>Anything that owns named parameters (torch-style dotted names, e.g. <c>0.weight</c>).</summary>
public interface IModule
{
    /// <summary>All parameters with their names, frozen ones included, in a stable order.</summary>
    IEnumerable<(string Name, Tensor Tensor)> NamedParameters();
}

/// <summary>Fully connected layer y = x·Wᵀ + b with torch nn.Linear layout and initialisation.</summary>
public sealed class Linear : IModule
{
    public int InFeatures { get; }
    public int OutFeatures { get; }

    /// <summary>[out, in].</summary>
    public Tensor Weight { get; }

    /// <summary>[out] or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Kaiming-uniform(a = √5) weight and U(±1/√in) bias, like torch.nn.Linear.</summary>
    public Linear(int inFeatures, int outFeatures, Rng rng, bool bias = true)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentException($"Linear: sizes must be positive, got in={inFeatures} out={outFeatures}");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = Tensor.Parameter([outFeatures, inFeatures], "weight");
        Bias = bias ? Tensor.Parameter([outFeatures], "bias") : null;
        Init.TorchLinear(Weight, Bias, rng);
    }

    public Tensor Forward(Graph g, Tensor x, Activation activation = Activation.None) => g.Linear(x, Weight, Bias, activation);

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters()
    {
        yield return ("weight", Weight);
        if (Bias is not null) yield return ("bias", Bias);
    }
}

/// <summary>Layer normalisation over the last dimension with learnable γ (ones) and β (zeros).</summary>
public sealed class LayerNorm : IModule
{
    public int Features { get; }
    public float Eps { get; }
    public Tensor Weight { get; }
    public Tensor Bias { get; }

    public LayerNorm(int features, float eps = 1e-5f)
    {
        Features = features;
        Eps = eps;
        Weight = Tensor.Parameter([features], "weight");
        Weight.Span.Fill(1f);
        Bias = Tensor.Parameter([features], "bias");
    }

    public Tensor Forward(Graph g, Tensor x) => g.LayerNorm(x, Weight, Bias, Eps);

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters()
    {
        yield return ("weight", Weight);
        yield return ("bias", Bias);
    }
}

/// <summary>
/// Multi-layer perceptron: for each hidden size Linear → [LayerNorm] → activation, then a final Linear and
/// an optional output activation. Parameter names follow the equivalent torch nn.Sequential
/// (activations take an index too), so weights exchange with PyTorch by name.
/// </summary>
public sealed class Mlp : IModule
{
    private readonly List<(string prefix, IModule module)> _named = [];

    public int InputSize { get; }
    public int OutputSize { get; }
    public Activation HiddenActivation { get; }
    public Activation OutputActivation { get; }
    public IReadOnlyList<Linear> Layers { get; }

    /// <summary>LayerNorms after each hidden Linear (empty when disabled).</summary>
    public IReadOnlyList<LayerNorm> Norms { get; }

    public Mlp(int inputSize, IReadOnlyList<int> hiddenSizes, int outputSize, Rng rng,
        Activation activation = Activation.Relu, bool layerNorm = false, Activation outputActivation = Activation.None)
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        InputSize = inputSize;
        OutputSize = outputSize;
        HiddenActivation = activation;
        OutputActivation = outputActivation;
        var layers = new List<Linear>();
        var norms = new List<LayerNorm>();
        int index = 0, prev = inputSize;
        foreach (int h in hiddenSizes)
        {
            var lin = new Linear(prev, h, rng);
            layers.Add(lin);
            _named.Add((index++.ToString(System.Globalization.CultureInfo.InvariantCulture), lin));
            if (layerNorm)
            {
                var ln = new LayerNorm(h);
                norms.Add(ln);
                _named.Add((index++.ToString(System.Globalization.CultureInfo.InvariantCulture), ln));
            }
            if (activation != Activation.None) index++;
            prev = h;
        }
        var last = new Linear(prev, outputSize, rng);
        layers.Add(last);
        _named.Add((index.ToString(System.Globalization.CultureInfo.InvariantCulture), last));
        Layers = layers;
        Norms = norms;
    }

    public Tensor Forward(Graph g, Tensor x)
    {
        for (int i = 0; i < Layers.Count - 1; i++)
        {
            if (Norms.Count > 0)
            {
                x = Layers[i].Forward(g, x);
                x = g.Activate(Norms[i].Forward(g, x), HiddenActivation);
            }
            else
            {
                x = Layers[i].Forward(g, x, HiddenActivation);
            }
        }
        return Layers[^1].Forward(g, x, OutputActivation);
    }

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters()
    {
        foreach (var (prefix, m) in _named)
            foreach (var (n, t) in m.NamedParameters())
                yield return (prefix + "." + n, t);
    }
}

/// <summary>
/// A named collection of tensors and sub-modules (e.g. an actor, twin critics and SAC's scalar log α in one
/// checkpoint). Names of sub-module parameters are prefixed with <c>prefix.</c>.
/// </summary>
public sealed class ParameterSet : IModule
{
    private readonly List<(string name, Tensor? tensor, IModule? module)> _items = [];

    public ParameterSet Add(string name, Tensor tensor)
    {
        _items.Add((name, tensor, null));
        return this;
    }

    public ParameterSet Add(string prefix, IModule module)
    {
        _items.Add((prefix, null, module));
        return this;
    }

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters()
    {
        foreach (var (name, tensor, module) in _items)
        {
            if (tensor is not null) yield return (name, tensor);
            else
                foreach (var (n, t) in module!.NamedParameters())
                    yield return (name.Length == 0 ? n : name + "." + n, t);
        }
    }
}

/// <summary>Parameter-registry operations on any <see cref="IModule"/>.</summary>
public static class ModuleExtensions
{
    public static IEnumerable<Tensor> Parameters(this IModule m) => m.NamedParameters().Select(p => p.Tensor);

    /// <summary>Parameters that currently require grad (what an optimiser should update).</summary>
    public static IEnumerable<Tensor> TrainableParameters(this IModule m) => m.Parameters().Where(p => p.RequiresGrad);

    public static long ParameterCount(this IModule m) => m.Parameters().Sum(p => (long)p.Size);

    public static void ZeroGrad(this IModule m)
    {
        foreach (var p in m.Parameters()) p.ZeroGrad();
    }

    /// <summary>Freezes (false) or unfreezes (true) every parameter.</summary>
    public static void SetRequiresGrad(this IModule m, bool requiresGrad)
    {
        foreach (var p in m.Parameters())
        {
            p.RequiresGrad = requiresGrad;
            if (requiresGrad) p.EnsureGrad();
        }
    }

    /// <summary>Copies all weights from a module of the same architecture (names and shapes must match).</summary>
    public static void CopyFrom(this IModule target, IModule source)
    {
        foreach (var (t, s) in Pairs(target, source, "CopyFrom")) s.Span.CopyTo(t.Span);
    }

    /// <summary>Polyak averaging θ' ← (1 − τ)·θ' + τ·θ (target networks).</summary>
    public static void PolyakUpdate(this IModule target, IModule source, float tau)
    {
        if (!(tau >= 0f && tau <= 1f)) throw new ArgumentOutOfRangeException(nameof(tau), tau, "Polyak tau must be in [0, 1]");
        foreach (var (t, s) in Pairs(target, source, "PolyakUpdate"))
        {
            var ts = t.Span;
            TensorPrimitives.Multiply(ts, 1f - tau, ts);
            TensorPrimitives.MultiplyAdd(s.Span, tau, ts, ts);
        }
    }

    private static List<(Tensor target, Tensor source)> Pairs(IModule target, IModule source, string op)
    {
        var t = target.NamedParameters().ToList();
        var s = source.NamedParameters().ToList();
        if (t.Count != s.Count)
            throw new ArgumentException($"{op}: modules differ: target has {t.Count} parameters, source has {s.Count}");
        var list = new List<(Tensor, Tensor)>(t.Count);
        for (int i = 0; i < t.Count; i++)
        {
            if (t[i].Name != s[i].Name || !Tensor.SameShape(t[i].Tensor.Shape, s[i].Tensor.Shape))
                throw new ArgumentException($"{op}: parameter {i} differs: target '{t[i].Name}' {Tensor.ShapeString(t[i].Tensor.Shape)} vs source '{s[i].Name}' {Tensor.ShapeString(s[i].Tensor.Shape)}");
            list.Add((t[i].Tensor, s[i].Tensor));
        }
        return list;
    }

    /// <summary>Throws <see cref="NonFiniteException"/> naming the first parameter (or gradient) holding NaN/Inf.</summary>
    public static void CheckFinite(this IModule m, bool includeGrads = true)
    {
        foreach (var (name, t) in m.NamedParameters())
        {
            t.CheckFinite(name);
            if (includeGrads && t.Grad is not null)
            {
                int i = Tensor.FirstNonFinite(t.Grad.AsSpan(0, t.Size));
                if (i >= 0) throw new NonFiniteException(name + ".grad", t.Shape, i, t.Grad[i]);
            }
        }
    }

    /// <summary>Writes all parameters to a safetensors file.</summary>
    public static void Save(this IModule m, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Save(path, m.NamedParameters(), metadata);

    /// <summary>
    /// Loads parameters by name from a safetensors file. Everything is validated first (missing, unexpected
    /// or mis-shaped tensors throw naming the tensor) and nothing is copied unless all checks pass.
    /// </summary>
    public static void Load(this IModule m, string path, bool strict = true)
    {
        var loaded = SafeTensors.Load(path);
        var mine = m.NamedParameters().ToList();
        foreach (var (name, t) in mine)
        {
            if (!loaded.TryGetValue(name, out var src))
                throw new SafeTensorsException($"{path}: tensor '{name}' {Tensor.ShapeString(t.Shape)} is missing from the file");
            if (!Tensor.SameShape(src.Shape, t.Shape))
                throw new SafeTensorsException($"{path}: tensor '{name}' has shape {Tensor.ShapeString(src.Shape)} in the file but {Tensor.ShapeString(t.Shape)} in the module");
        }
        if (strict)
        {
            var names = mine.Select(p => p.Name).ToHashSet();
            var extra = loaded.Keys.FirstOrDefault(k => !names.Contains(k));
            if (extra is not null) throw new SafeTensorsException($"{path}: unexpected tensor '{extra}' in the file (not a parameter of the module)");
        }
        foreach (var (name, t) in mine) loaded[name].Span.CopyTo(t.Span);
    }
}

/// <summary>Torch-default initialisers.</summary>
public static class Init
{
    /// <summary>
    /// torch.nn.Linear.reset_parameters: W ~ U(±gain·√(3/fan_in)) with kaiming a = √5 (bound 1/√fan_in),
    /// b ~ U(±1/√fan_in).
    /// </summary>
    public static void TorchLinear(Tensor weight, Tensor? bias, Rng rng)
    {
        int fanIn = weight.Size / weight.Shape[0];
        KaimingUniform(weight, fanIn, MathF.Sqrt(5f), rng);
        if (bias is not null)
        {
            float bound = fanIn > 0 ? 1f / MathF.Sqrt(fanIn) : 0f;
            rng.FillUniform(bias.Span, -bound, bound);
        }
    }

    /// <summary>kaiming_uniform_(a, mode=fan_in, nonlinearity=leaky_relu): bound = √(2/(1+a²))·√(3/fan_in).</summary>
    public static void KaimingUniform(Tensor w, int fanIn, float a, Rng rng)
    {
        float gain = MathF.Sqrt(2f / (1f + a * a));
        float bound = gain * MathF.Sqrt(3f / fanIn);
        rng.FillUniform(w.Span, -bound, bound);
    }

    public static void Uniform(Tensor t, float lo, float hi, Rng rng) => rng.FillUniform(t.Span, lo, hi);

    public static void Constant(Tensor t, float value) => t.Span.Fill(value);
}

/// <summary>2-D convolution layer (NCHW) with torch nn.Conv2d layout and initialisation.</summary>
public sealed class Conv2d : IModule
{
    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }

    /// <summary>[out, in, k, k].</summary>
    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public Conv2d(int inChannels, int outChannels, int kernelSize, Rng rng, int stride = 1, int padding = 0, bool bias = true)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0)
            throw new ArgumentException($"Conv2d: channels and kernel size must be positive, got in={inChannels} out={outChannels} k={kernelSize}");
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Weight = Tensor.Parameter([outChannels, inChannels, kernelSize, kernelSize], "weight");
        Bias = bias ? Tensor.Parameter([outChannels], "bias") : null;
        Init.TorchLinear(Weight, Bias, rng);
    }

    public Tensor Forward(Graph g, Tensor x) => g.Conv2d(x, Weight, Bias, Stride, Padding);

    public IEnumerable<(string Name, Tensor Tensor)> NamedParameters()
    {
        yield return ("weight", Weight);
        if (Bias is not null) yield return ("bias", Bias);
    }
}
