using Rift.Learning;

namespace Rift.Sim.Tasks;

/// <summary>Shared pieces of the scripted experts: reading the observation and proportional moves.</summary>
internal static class ExpertMath
{
    public static Vec3 Tcp(Observation o) => ObservationLayout.Position(o.Proprio, ObservationLayout.Tcp);
    public static Vec3 Object(Observation o) => ObservationLayout.Position(o.ObjectState, ObservationLayout.ObjectPos);
    public static Vec3 Goal(Observation o) => ObservationLayout.Position(o.ObjectState, ObservationLayout.Goal);
    public static double Gap(Observation o) => o.Proprio[ObservationLayout.Opening] * SimScene.OpenGap;

    /// <summary>Writes a displacement toward <paramref name="to"/>, clipped per axis to the action range.</summary>
    public static void MoveToward(Vec3 from, Vec3 to, double actionScale, Span<float> action, double gain = 1.0)
    {
        var d = to - from;
        action[0] = (float)Math.Clamp(gain * d.X / actionScale, -1, 1);
        action[1] = (float)Math.Clamp(gain * d.Y / actionScale, -1, 1);
        action[2] = (float)Math.Clamp(gain * d.Z / actionScale, -1, 1);
    }

    /// <summary>Scales a planar move so its largest component is at most 1 (keeps the direction).</summary>
    public static void MoveTowardKeepDirection(Vec3 from, Vec3 to, double actionScale, Span<float> action, double gain = 1.0)
    {
        var d = gain / actionScale * (to - from);
        var m = Math.Max(1.0, Math.Max(Math.Abs(d.X), Math.Max(Math.Abs(d.Y), Math.Abs(d.Z))));
        action[0] = (float)(d.X / m);
        action[1] = (float)(d.Y / m);
        action[2] = (float)(d.Z / m);
    }
}
