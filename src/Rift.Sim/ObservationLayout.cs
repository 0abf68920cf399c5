using Rift.Learning;

namespace Rift.Sim;

/// <summary>
/// The observation vectors of every task (same layout on all tasks). Positions are in decimetres (metres × 10)
/// relative to the centre of the table top, so that they are of order 1.
/// <para>Proprio (7): [0..3) TCP position, [3] finger opening (0 closed … 1 fully open, 9 cm), [4..7) TCP velocity (m/s).</para>
/// <para>ObjectState (14): [0..3) object position (block centre; peg tip), [3..5) object yaw as (sin 4ψ, cos 4ψ)
/// (square symmetry), [5..8) goal position (push: target centre at block height; peg-insert: hole bottom centre;
/// pick-place: target point), [8..11) object − goal, [11..14) object − TCP.</para>
/// </summary>
public static class ObservationLayout
{
    public const int ProprioSize = 7;
    public const int ObjectStateSize = 14;
    public const int PolicyInputSize = ProprioSize + ObjectStateSize;
    public const int ActionSize = 4;

    /// <summary>Metres → observation units.</summary>
    public const double PositionScale = 10.0;

    public const int Tcp = 0, Opening = 3, TcpVelocity = 4;
    public const int ObjectPos = 0, ObjectYaw = 3, Goal = 5, ObjectToGoal = 8, ObjectToTcp = 11;

    internal static Observation Build(SimTask task, Frame? frame)
    {
        var s = task.Scene;
        var proprio = new float[ProprioSize];
        var tcp = s.Tcp;
        Put(proprio, Tcp, PositionScale * tcp);
        proprio[Opening] = (float)Math.Clamp(s.FingerGap / SimScene.OpenGap, 0, 1);
        Put(proprio, TcpVelocity, s.TcpVelocity);

        var obj = new float[ObjectStateSize];
        var o = task.ObjectPoint;
        var g = task.GoalPoint;
        Put(obj, ObjectPos, PositionScale * o);
        var yaw4 = 4 * s.ObjectYaw;
        obj[ObjectYaw] = (float)Math.Sin(yaw4);
        obj[ObjectYaw + 1] = (float)Math.Cos(yaw4);
        Put(obj, Goal, PositionScale * g);
        Put(obj, ObjectToGoal, PositionScale * (o - g));
        Put(obj, ObjectToTcp, PositionScale * (o - tcp));
        return new Observation { Proprio = proprio, ObjectState = obj, Frame = frame };
    }

    /// <summary>Reads a position (metres) back from an observation vector.</summary>
    public static Vec3 Position(ReadOnlySpan<float> v, int offset) =>
        new(v[offset] / PositionScale, v[offset + 1] / PositionScale, v[offset + 2] / PositionScale);

    private static void Put(float[] dst, int at, Vec3 v)
    {
        dst[at] = (float)v.X;
        dst[at + 1] = (float)v.Y;
        dst[at + 2] = (float)v.Z;
    }
}
