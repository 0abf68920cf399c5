using Rift.Sim.Interop;

namespace Rift.Sim;

/// <summary>
/// Named handles into a task scene (gripper, object, target) over one <see cref="MjData"/>, with the state
/// read-outs the tasks, experts and supervisors share. Positions are world metres with the origin at the
/// centre of the table top.
/// </summary>
public sealed unsafe class SimScene
{
    /// <summary>Finger closing travel (per finger) at which the fingers touch: fully open gap is 0.09 m.</summary>
    public const double MaxClosing = 0.045;

    public const double OpenGap = 0.09;

    private readonly double* _qpos, _qvel, _xpos, _xquat, _mocapPos, _mocapQuat, _ctrl;
    private readonly int _handQpos, _handQvel, _objectQpos, _fingerQpos, _handBody, _objectBody, _gripMocap, _targetMocap;

    public SimScene(MjModel model, MjData data)
    {
        Model = model;
        Data = data;
        _qpos = Ptr(data.Doubles("qpos"));
        _qvel = Ptr(data.Doubles("qvel"));
        _xpos = Ptr(data.Doubles("xpos"));
        _xquat = Ptr(data.Doubles("xquat"));
        _mocapPos = Ptr(data.Doubles("mocap_pos"));
        _mocapQuat = Ptr(data.Doubles("mocap_quat"));
        _ctrl = Ptr(data.Doubles("ctrl"));
        var jntQposAdr = model.Array<int>("jnt_qposadr");
        var jntDofAdr = model.Array<int>("jnt_dofadr");
        var bodyMocap = model.Array<int>("body_mocapid");
        var hand = model.Id(MjObject.Joint, "hand");
        _handQpos = jntQposAdr[hand];
        _handQvel = jntDofAdr[hand];
        _objectQpos = jntQposAdr[model.Id(MjObject.Joint, "object")];
        _fingerQpos = jntQposAdr[model.Id(MjObject.Joint, "finger_left")];
        FingerRightQpos = jntQposAdr[model.Id(MjObject.Joint, "finger_right")];
        _handBody = model.Id(MjObject.Body, "hand");
        _objectBody = model.Id(MjObject.Body, "object");
        _gripMocap = bodyMocap[model.Id(MjObject.Body, "mocap")];
        _targetMocap = bodyMocap[model.Id(MjObject.Body, "target")];
        GripActuator = model.Id(MjObject.Actuator, "grip");
    }

    private static double* Ptr(Span<double> s)
    {
        fixed (double* p = s) return p;
    }

    public MjModel Model { get; }
    public MjData Data { get; }
    internal int GripActuator { get; }
    internal int FingerRightQpos { get; }

    /// <summary>Tool centre point: between the fingertips' upper part, the gripper's reference point.</summary>
    public Vec3 Tcp => new(_xpos[3 * _handBody], _xpos[3 * _handBody + 1], _xpos[3 * _handBody + 2]);

    public Vec3 TcpVelocity => new(_qvel[_handQvel], _qvel[_handQvel + 1], _qvel[_handQvel + 2]);

    public Vec3 ObjectPos => new(_xpos[3 * _objectBody], _xpos[3 * _objectBody + 1], _xpos[3 * _objectBody + 2]);

    /// <summary>Object orientation quaternion (w, x, y, z).</summary>
    public (double W, double X, double Y, double Z) ObjectQuat =>
        (_xquat[4 * _objectBody], _xquat[4 * _objectBody + 1], _xquat[4 * _objectBody + 2], _xquat[4 * _objectBody + 3]);

    /// <summary>The object's local z axis in world coordinates.</summary>
    public Vec3 ObjectUp
    {
        get
        {
            var (w, x, y, z) = ObjectQuat;
            return new Vec3(2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y));
        }
    }

    /// <summary>Object yaw about the world z axis, radians.</summary>
    public double ObjectYaw
    {
        get
        {
            var (w, x, y, z) = ObjectQuat;
            return Math.Atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
        }
    }

    public Vec3 Target => new(_mocapPos[3 * _targetMocap], _mocapPos[3 * _targetMocap + 1], _mocapPos[3 * _targetMocap + 2]);

    public Vec3 GripperCommand
    {
        get => new(_mocapPos[3 * _gripMocap], _mocapPos[3 * _gripMocap + 1], _mocapPos[3 * _gripMocap + 2]);
        set
        {
            _mocapPos[3 * _gripMocap] = value.X;
            _mocapPos[3 * _gripMocap + 1] = value.Y;
            _mocapPos[3 * _gripMocap + 2] = value.Z;
        }
    }

    /// <summary>Distance between the fingers' inner faces, metres (0.09 fully open).</summary>
    public double FingerGap => OpenGap - _qpos[_fingerQpos] - _qpos[FingerRightQpos];

    /// <summary>Finger closing target per finger in [0, <see cref="MaxClosing"/>].</summary>
    public double GripControl
    {
        get => _ctrl[GripActuator];
        set => _ctrl[GripActuator] = Math.Clamp(value, 0, MaxClosing);
    }

    public void SetTarget(Vec3 p)
    {
        _mocapPos[3 * _targetMocap] = p.X;
        _mocapPos[3 * _targetMocap + 1] = p.Y;
        _mocapPos[3 * _targetMocap + 2] = p.Z;
    }

    /// <summary>Places the gripper (and its mocap command) at <paramref name="tcp"/>, upright and at rest.</summary>
    public void PlaceGripper(Vec3 tcp, double closing)
    {
        GripperCommand = tcp;
        _mocapQuat[4 * _gripMocap] = 1;
        _mocapQuat[4 * _gripMocap + 1] = _mocapQuat[4 * _gripMocap + 2] = _mocapQuat[4 * _gripMocap + 3] = 0;
        SetFree(_handQpos, tcp, 0);
        _qpos[_fingerQpos] = closing;
        _qpos[FingerRightQpos] = closing;
        GripControl = closing;
    }

    /// <summary>Places the free object at <paramref name="p"/> with yaw <paramref name="yaw"/>.</summary>
    public void PlaceObject(Vec3 p, double yaw) => SetFree(_objectQpos, p, yaw);

    private void SetFree(int adr, Vec3 p, double yaw)
    {
        _qpos[adr] = p.X;
        _qpos[adr + 1] = p.Y;
        _qpos[adr + 2] = p.Z;
        _qpos[adr + 3] = Math.Cos(yaw / 2);
        _qpos[adr + 4] = 0;
        _qpos[adr + 5] = 0;
        _qpos[adr + 6] = Math.Sin(yaw / 2);
    }
}

/// <summary>A small 3-vector for task geometry.</summary>
public readonly record struct Vec3(double X, double Y, double Z)
{
    public static Vec3 operator +(Vec3 a, Vec3 b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);
    public static Vec3 operator -(Vec3 a, Vec3 b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);
    public static Vec3 operator *(double s, Vec3 a) => new(s * a.X, s * a.Y, s * a.Z);
    public double Norm => Math.Sqrt(X * X + Y * Y + Z * Z);
    public double NormXY => Math.Sqrt(X * X + Y * Y);
    public Vec3 WithZ(double z) => new(X, Y, z);
}
