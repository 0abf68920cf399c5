namespace Rift.Sim.Interop;

/// <summary>Simulation state (<c>mjData</c>) of a model; fields are reached by their MuJoCo names.</summary>
public sealed unsafe class MjData : IDisposable
{
    private nint _handle;
    private readonly double* _time;

    public MjData(MjModel model)
    {
        Model = model;
        if (Native.rift_make_data(model.Handle, out _handle) != 0 || _handle == 0)
            throw new MujocoException($"mj_makeData failed for '{model.Path}': {Native.LastError()}");
        if (Native.rift_data_scalar(_handle, "time", out var t, out _) != 0) throw new MujocoException("mjData has no 'time' field.");
        _time = (double*)t;
    }

    public MjModel Model { get; }

    internal nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(MjData));

    /// <summary>Simulated time in seconds.</summary>
    public ref double Time => ref *_time;

    /// <summary>An array field of mjData (qpos, qvel, xpos, mocap_pos, ...) as a span over MuJoCo's memory.</summary>
    public Span<T> Array<T>(string name) where T : unmanaged
    {
        if (Native.rift_data_array(Model.Handle, Handle, name, out var ptr, out var rows, out var cols, out _, out var elem) != 0)
            throw new ArgumentException($"mjData has no array field '{name}'.", nameof(name));
        if (elem != sizeof(T)) throw new ArgumentException($"mjData.{name} has {elem}-byte elements, not {typeof(T).Name}.", nameof(name));
        return new Span<T>((void*)ptr, rows * cols);
    }

    public Span<double> Doubles(string name) => Array<double>(name);

    /// <summary>An int scalar of mjData (ncon, nefc, ...).</summary>
    public int IntScalar(string name)
    {
        if (Native.rift_data_scalar(Handle, name, out var ptr, out var type) != 0 || type != 1)
            throw new ArgumentException($"mjData has no int scalar '{name}'.", nameof(name));
        return *(int*)ptr;
    }

    public int ContactCount => IntScalar("ncon");

    /// <summary>The geoms of contact <paramref name="i"/> and their signed distance.</summary>
    public (int Geom1, int Geom2, double Dist) Contact(int i) =>
        Native.rift_contact_geoms(Handle, i, out var g1, out var g2, out var dist) == 0
            ? (g1, g2, dist)
            : throw new ArgumentOutOfRangeException(nameof(i), $"Contact {i} does not exist ({ContactCount} contacts).");

    /// <summary>Sum of MuJoCo's per-data warning counters (contact buffer full, bad qacc, ...).</summary>
    public int WarningCount => Native.rift_data_warnings(Handle);

    /// <summary>Advances the physics by <paramref name="steps"/> timesteps.</summary>
    public void Step(int steps = 1)
    {
        if (Native.rift_step(Model.Handle, Handle, steps) != 0)
            throw new MujocoException($"mj_step failed in '{Model.Path}': {Native.LastError()}");
        Mujoco.PollWarnings();
    }

    /// <summary>Recomputes derived quantities (positions, contacts) for the current state.</summary>
    public void Forward()
    {
        if (Native.rift_forward(Model.Handle, Handle) != 0)
            throw new MujocoException($"mj_forward failed in '{Model.Path}': {Native.LastError()}");
    }

    public void Reset()
    {
        if (Native.rift_reset_data(Model.Handle, Handle) != 0)
            throw new MujocoException($"mj_resetData failed in '{Model.Path}': {Native.LastError()}");
    }

    public void Dispose()
    {
        if (_handle == 0) return;
        Native.rift_delete_data(_handle);
        _handle = 0;
    }
}
