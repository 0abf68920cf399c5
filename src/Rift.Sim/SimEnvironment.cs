using System.Text;
using Rift.Learning;
using Rift.Sim.Interop;
using Rift.Sim.Rendering;
using Rift.Sim.Supervisors;

namespace Rift.Sim;

/// <summary>
/// A MuJoCo task environment with Gymnasium semantics. Action (dx, dy, dz, grip) ∈ [-1, 1]⁴: the gripper's mocap
/// command moves by <see cref="SimOptions.ActionScale"/>·(dx, dy, dz) metres per step (interpolated over the
/// step's physics substeps), grip −1 opens and +1 closes the fingers. Reward is 1 on the step that reaches
/// success, which also terminates the episode; leaving the table terminates with 0; the time limit truncates.
/// <see cref="StepInfo.Progress"/> carries the oracle progress Φ(s).
/// </summary>
public sealed class SimEnvironment : IEnvironment, ISupervisorOracle
{
    private const int Chunks = 5;
    private const double SettleSeconds = 0.1;
    private static readonly byte[] Magic = "RSIM1"u8.ToArray();

    private readonly SimOptions _options;
    private readonly int _substeps;
    private readonly int _maxSteps;
    private readonly int _nq, _nv, _na, _nu, _nmocap;
    private readonly Dictionary<(int, string, bool), SimRenderer> _renderers = [];
    private readonly double[] _preStep;
    private readonly double[] _scratch;
    private readonly double[] _warmstart;
    private readonly IExpert _oracleExpert;
    private readonly float[] _oracleAction = new float[4];
    private SimRenderer? _frameRenderer;
    private int _step;
    private bool _started;
    private bool _hasPreStep;
    private double _progress;
    private int _warningBaseline;

    public SimEnvironment(SimTask task, SimOptions options)
    {
        Task = task;
        _options = options;
        var dir = string.IsNullOrEmpty(options.ModelsDirectory) ? RiftPaths.Models : options.ModelsDirectory;
        Model = MjModel.Load(Path.Combine(dir, task.ModelFile));
        try
        {
            Data = new MjData(Model);
            Scene = new SimScene(Model, Data);
        }
        catch
        {
            Model.Dispose();
            throw;
        }
        task.Scene = Scene;
        _substeps = Math.Max(1, (int)Math.Round(1.0 / (options.ControlHz * Model.Timestep)));
        _maxSteps = options.MaxEpisodeSteps > 0 ? options.MaxEpisodeSteps : task.DefaultMaxEpisodeSteps;
        (_nq, _nv, _na, _nu, _nmocap) = (Model.Int("nq"), Model.Int("nv"), Model.Int("na"), Model.Int("nu"), Model.Int("nmocap"));
        _preStep = new double[PhysicsSize];
        _scratch = new double[PhysicsSize];
        _warmstart = new double[_nv];
        _oracleExpert = task.CreateExpert(options.ActionScale);
        Spec = new EnvSpec(task.Name, ObservationLayout.ActionSize, ObservationLayout.PolicyInputSize, _maxSteps, _substeps * Model.Timestep);
    }

    public EnvSpec Spec { get; }
    public SimTask Task { get; }
    public SimScene Scene { get; }
    public MjModel Model { get; }
    public MjData Data { get; }
    public SimOptions Options => _options;

    /// <summary>Physics substeps per control step.</summary>
    public int Substeps => _substeps;

    /// <summary>Control steps taken in the current episode.</summary>
    public int StepCount => _step;

    /// <summary>MuJoCo warnings (mjData counters) raised since the last reset.</summary>
    public int WarningCount => Data.WarningCount - _warningBaseline;

    /// <summary>Oracle progress Φ of the current state.</summary>
    public double Progress => _progress;

    public bool IsUnsafe => Task.IsUnsafe();

    public (Observation Observation, StepInfo Info) Reset(int seed)
    {
        Data.Reset();
        Task.Randomise(new Random(seed));
        Data.Forward();
        // Let the object settle and the gripper take up its weld before the episode starts.
        Data.Step((int)Math.Round(SettleSeconds / Model.Timestep));
        ForwardKeepingWarmstart();
        Task.BeginEpisode();
        _warningBaseline = 0;
        _warningBaseline = Data.WarningCount;
        _step = 0;
        _started = true;
        _hasPreStep = false;
        _progress = Task.Progress();
        return (Observe(), new StepInfo(_progress, Task.IsSuccess()));
    }

    public StepResult Step(ReadOnlySpan<float> action)
    {
        if (!_started) throw new InvalidOperationException($"{Task.Name}: Step called before Reset.");
        if (action.Length != ObservationLayout.ActionSize)
            throw new ArgumentException($"{Task.Name}: action has {action.Length} components, expected {ObservationLayout.ActionSize} (dx, dy, dz, grip).", nameof(action));
        for (var i = 0; i < action.Length; i++)
            if (!float.IsFinite(action[i])) throw new ArgumentException($"{Task.Name}: action[{i}] is {action[i]}.", nameof(action));

        SavePhysics(_preStep);
        _hasPreStep = true;
        Apply(action);
        _step++;
        var success = Task.IsSuccess();
        var failure = !success && Task.IsFailure();
        _progress = Task.Progress();
        var obs = Observe();
        return new StepResult(obs, success ? 1.0 : 0.0, success || failure, !success && !failure && _step >= _maxSteps, new StepInfo(_progress, success));
    }

    /// <summary>Moves the gripper command and fingers for one control step and runs the physics substeps.</summary>
    private void Apply(ReadOnlySpan<float> action)
    {
        var scale = _options.ActionScale;
        var start = Scene.GripperCommand;
        var tcp = Scene.Tcp;
        var a = new Vec3(Math.Clamp(action[0], -1, 1), Math.Clamp(action[1], -1, 1), Math.Clamp(action[2], -1, 1));
        var cmd = start + scale * a;
        // Workspace bounds, and a bounded lead over the real gripper so that pushing into contact cannot wind up force.
        const double lead = 0.05;
        cmd = new Vec3(
            Math.Clamp(Math.Clamp(cmd.X, tcp.X - lead, tcp.X + lead), -0.28, 0.28),
            Math.Clamp(Math.Clamp(cmd.Y, tcp.Y - lead, tcp.Y + lead), -0.22, 0.22),
            Math.Clamp(Math.Clamp(cmd.Z, tcp.Z - lead, tcp.Z + lead), Task.MinCommandZ, 0.25));
        Scene.GripControl = Task.GripClosing(Math.Clamp(action[3], -1, 1));
        var chunks = Math.Min(Chunks, _substeps);
        var done = 0;
        for (var k = 1; k <= chunks; k++)
        {
            Scene.GripperCommand = start + ((double)k / chunks) * (cmd - start);
            var n = _substeps * k / chunks - done;
            Data.Step(n);
            done += n;
        }
        ForwardKeepingWarmstart();
    }

    private Observation Observe()
    {
        Frame? frame = null;
        if (_options.RenderFrames)
        {
            _frameRenderer ??= GetRenderer(_options.FrameSize, _options.Camera, false);
            frame = _frameRenderer.Render(Data);
        }
        return ObservationLayout.Build(Task, frame);
    }

    /// <summary>The current observation (with a frame if <see cref="SimOptions.RenderFrames"/>).</summary>
    public Observation CurrentObservation() => Observe();

    /// <summary>Renders the current state at <paramref name="size"/>² from <paramref name="camera"/> (default: the options' camera).</summary>
    public Frame Render(int? size = null, string? camera = null, bool highQuality = false) =>
        GetRenderer(size ?? _options.FrameSize, camera ?? _options.Camera, highQuality).Render(Data);

    private SimRenderer GetRenderer(int size, string camera, bool highQuality)
    {
        if (!_renderers.TryGetValue((size, camera, highQuality), out var r))
        {
            r = new SimRenderer(Model, size, size, camera, _options.RenderBackend, highQuality);
            _renderers[(size, camera, highQuality)] = r;
        }
        return r;
    }

    // ------------------------------------------------------------------ snapshots

    private int PhysicsSize => 1 + _nq + 2 * _nv + _na + _nu + 7 * _nmocap;

    /// <summary>Copies the complete physics state (what mj_getState would hold in later MuJoCo versions).</summary>
    private void SavePhysics(double[] buf)
    {
        var o = 0;
        buf[o++] = Data.Time;
        foreach (var name in PhysicsFields)
        {
            var s = Data.Doubles(name);
            s.CopyTo(buf.AsSpan(o));
            o += s.Length;
        }
    }

    private void LoadPhysics(double[] buf)
    {
        var o = 0;
        Data.Time = buf[o++];
        foreach (var name in PhysicsFields)
        {
            var s = Data.Doubles(name);
            buf.AsSpan(o, s.Length).CopyTo(s);
            o += s.Length;
        }
        ForwardKeepingWarmstart();
        // mj_forward renormalises quaternions in qpos in place; keep the saved bits so that the replay is exact.
        buf.AsSpan(1, _nq).CopyTo(Data.Doubles("qpos"));
    }

    /// <summary>
    /// Recomputes positions and contacts for the current qpos (mj_step leaves them one substep behind) without
    /// disturbing the solver warmstart: mj_forward overwrites qacc_warmstart, and the next mj_step must start from
    /// the value the uninterrupted trajectory would have.
    /// </summary>
    private void ForwardKeepingWarmstart()
    {
        var warm = Data.Doubles("qacc_warmstart");
        warm.CopyTo(_warmstart);
        Data.Forward();
        _warmstart.CopyTo(warm);
    }

    private static readonly string[] PhysicsFields = ["qpos", "qvel", "act", "qacc_warmstart", "ctrl", "mocap_pos", "mocap_quat"];

    public byte[] CaptureState()
    {
        if (!_started) throw new InvalidOperationException($"{Task.Name}: CaptureState called before Reset.");
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Task.Name);
            var phys = new double[PhysicsSize];
            SavePhysics(phys);
            w.Write(phys.Length);
            foreach (var v in phys) w.Write(v);
            var ts = Task.SaveState();
            w.Write(ts.Length);
            foreach (var v in ts) w.Write(v);
            w.Write(_step);
            w.Write(_hasPreStep);
            foreach (var v in _preStep) w.Write(v);
        }
        return ms.ToArray();
    }

    public void RestoreState(byte[] state)
    {
        using var r = new BinaryReader(new MemoryStream(state), Encoding.UTF8);
        var magic = r.ReadBytes(Magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic)) throw new ArgumentException($"{Task.Name}: not a simulator state (bad header).", nameof(state));
        var name = r.ReadString();
        if (name != Task.Name) throw new ArgumentException($"State belongs to task '{name}', this environment runs '{Task.Name}'.", nameof(state));
        var n = r.ReadInt32();
        if (n != PhysicsSize) throw new ArgumentException($"{Task.Name}: state has {n} physics values, the model needs {PhysicsSize}.", nameof(state));
        var phys = new double[n];
        for (var i = 0; i < n; i++) phys[i] = r.ReadDouble();
        var ts = new double[r.ReadInt32()];
        for (var i = 0; i < ts.Length; i++) ts[i] = r.ReadDouble();
        _step = r.ReadInt32();
        _hasPreStep = r.ReadBoolean();
        for (var i = 0; i < _preStep.Length; i++) _preStep[i] = r.ReadDouble();
        Task.LoadState(ts);
        LoadPhysics(phys);
        _started = true;
        _progress = Task.Progress();
    }

    // ------------------------------------------------------------------ oracle for simulated supervisors

    /// <summary>
    /// One-step oracle value gap Q*(s, π*(s)) − Q*(s, a) with Φ as the value (RIFT eq. 11 with V ≈ Φ): the progress
    /// the scripted expert would have reached from the previous state minus the progress the last action reached.
    /// Computed by restoring the pre-step physics into this simulator and stepping the expert's action; the current
    /// state is restored exactly afterwards. 0 before the first step.
    /// </summary>
    public double ValueGap()
    {
        if (!_hasPreStep) return 0.0;
        var actual = _progress;
        SavePhysics(_scratch);
        LoadPhysics(_preStep);
        _oracleExpert.Reset();
        _oracleExpert.Act(ObservationLayout.Build(Task, null), _oracleAction);
        Apply(_oracleAction);
        var expert = Task.IsSuccess() ? 1.0 : Task.Progress();
        LoadPhysics(_scratch);
        return expert - actual;
    }

    public void Dispose()
    {
        foreach (var r in _renderers.Values) r.Dispose();
        _renderers.Clear();
        Data.Dispose();
        Model.Dispose();
    }
}
