using System.Text;

namespace Rift.Sim.Interop;

/// <summary>A compiled MuJoCo model (<c>mjModel</c>); fields are reached by their MuJoCo names.</summary>
public sealed unsafe class MjModel : IDisposable
{
    private nint _handle;

    private MjModel(nint handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    public string Path { get; }

    internal nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(MjModel));

    /// <summary>
    /// Loads and compiles an MJCF file. A missing file or a malformed scene raises <see cref="MujocoException"/>
    /// naming the file and carrying MuJoCo's message (which gives the line and element).
    /// </summary>
    public static MjModel Load(string path)
    {
        Native.EnsureInitialised();
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new MujocoException($"MJCF file '{full}' does not exist.");
        var err = stackalloc byte[1024];
        err[0] = 0;
        var rc = Native.rift_load_xml(full, err, 1024, out var model);
        if (rc != 0 || model == 0)
        {
            var message = new string((sbyte*)err);
            if (rc != 0) message = Native.LastError() + (message.Length > 0 ? "; " + message : "");
            throw new MujocoException($"Cannot load MJCF '{full}': {message.Trim()}");
        }
        return new MjModel(model, full);
    }

    /// <summary>An int field of mjModel (nq, nv, nbody, nmocap, ...).</summary>
    public int Int(string name) =>
        Native.rift_model_int(Handle, name, out var v) == 0 ? v : throw new ArgumentException($"mjModel has no int field '{name}'.", nameof(name));

    /// <summary>An array field of mjModel as a span over MuJoCo's memory (rows × cols elements).</summary>
    public Span<T> Array<T>(string name) where T : unmanaged
    {
        if (Native.rift_model_array(Handle, name, out var ptr, out var rows, out var cols, out _, out var elem) != 0)
            throw new ArgumentException($"mjModel has no array field '{name}'.", nameof(name));
        if (elem != sizeof(T)) throw new ArgumentException($"mjModel.{name} has {elem}-byte elements, not {typeof(T).Name}.", nameof(name));
        return new Span<T>((void*)ptr, rows * cols);
    }

    /// <summary>Rows and columns of an array field of mjModel.</summary>
    public (int Rows, int Cols) Shape(string name) =>
        Native.rift_model_array(Handle, name, out _, out var rows, out var cols, out _, out _) == 0
            ? (rows, cols)
            : throw new ArgumentException($"mjModel has no array field '{name}'.", nameof(name));

    /// <summary>A scalar simulation option (<c>mjModel.opt.timestep</c> etc.).</summary>
    public ref double OptionDouble(string name)
    {
        if (Native.rift_model_option(Handle, name, out var ptr, out var type) != 0 || type != 0)
            throw new ArgumentException($"mjOption has no floating-point field '{name}'.", nameof(name));
        return ref *(double*)ptr;
    }

    /// <summary>An integer simulation option (<c>mjModel.opt.integrator</c>, <c>iterations</c>, ...).</summary>
    public ref int OptionInt(string name)
    {
        if (Native.rift_model_option(Handle, name, out var ptr, out var type) != 0 || type != 1)
            throw new ArgumentException($"mjOption has no integer field '{name}'.", nameof(name));
        return ref *(int*)ptr;
    }

    public double Timestep => OptionDouble("timestep");

    /// <summary>The id of a named object; throws naming the object if the model has none.</summary>
    public int Id(MjObject type, string name)
    {
        var id = Native.mj_name2id(Handle, (int)type, name);
        return id >= 0 ? id : throw new ArgumentException($"Model '{Path}' has no {type.ToString().ToLowerInvariant()} named '{name}'.", nameof(name));
    }

    /// <summary>The id of a named object, or -1.</summary>
    public int TryId(MjObject type, string name) => Native.mj_name2id(Handle, (int)type, name);

    public void Dispose()
    {
        if (_handle == 0) return;
        Native.rift_delete_model(_handle);
        _handle = 0;
    }
}
