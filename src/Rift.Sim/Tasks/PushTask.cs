using Rift.Learning;

namespace Rift.Sim.Tasks;

/// <summary>
/// push: slide a 5 cm block into a green target disc (success: block centre within 3 cm of the target centre in
/// the plane). Failure modes: pushing past the target, letting the block slip off the pusher's line, pushing it off the table.
/// </summary>
public sealed class PushTask : SimTask
{
    public const double SuccessRadius = 0.03;
    public const double BlockHalf = 0.025;
    /// <summary>TCP height while pushing: the fingertips are 1 cm below the TCP.</summary>
    public const double PushHeight = 0.027;
    /// <summary>Distance behind the block centre where a push starts.</summary>
    public const double Standoff = 0.058;

    private double _d0 = 0.2, _r0 = 0.3;

    public override string Name => "push";
    public override string ModelFile => "push.xml";
    public override int DefaultMaxEpisodeSteps => 60;

    public override void Randomise(Random rng)
    {
        var block = new Vec3(Uniform(rng, -0.12, 0.12), Uniform(rng, -0.08, 0.08), BlockHalf);
        Vec3 target;
        do target = new Vec3(Uniform(rng, -0.18, 0.18), Uniform(rng, -0.14, 0.16), BlockHalf);
        while ((target - block).NormXY is < 0.10 or > 0.22);
        Vec3 hand;
        do hand = new Vec3(Uniform(rng, -0.15, 0.15), Uniform(rng, -0.16, 0.12), Uniform(rng, 0.10, 0.15));
        while ((hand - block).NormXY < 0.06);
        Scene.PlaceObject(block, Uniform(rng, -Math.PI / 4, Math.PI / 4));
        Scene.SetTarget(target.WithZ(0));
        Scene.PlaceGripper(hand, SimScene.MaxClosing);
    }

    public override void BeginEpisode()
    {
        _d0 = Math.Max(PlanarDistance(), SuccessRadius + 0.01);
        _r0 = Math.Max(ReachDistance(), 0.05);
    }

    public override Vec3 GoalPoint => Scene.Target.WithZ(BlockHalf);

    private double PlanarDistance() => (Scene.ObjectPos - Scene.Target).NormXY;

    /// <summary>Where the pusher should stand: behind the block on the line from the target through the block.</summary>
    private Vec3 PrePush()
    {
        var b = Scene.ObjectPos;
        var u = Direction(b, Scene.Target);
        return new Vec3(b.X - Standoff * u.X, b.Y - Standoff * u.Y, PushHeight);
    }

    /// <summary>
    /// The pusher's remaining approach: planar distance to the push pose plus height above travel height (going
    /// over the block costs no progress).
    /// </summary>
    private double ReachDistance()
    {
        var tcp = Scene.Tcp;
        return (tcp - PrePush()).NormXY + Math.Max(0, tcp.Z - PushExpert.TravelHeight);
    }

    internal static Vec3 Direction(Vec3 from, Vec3 to)
    {
        var d = (to - from).WithZ(0);
        var n = d.NormXY;
        return n < 1e-9 ? new Vec3(1, 0, 0) : (1 / n) * d;
    }

    public override bool IsSuccess() => PlanarDistance() < SuccessRadius && Scene.ObjectPos.Z > 0;

    // Φ = 0.3·reach + 0.7·move: reach measures the pusher's approach to the push pose, move the block's approach to the target.
    public override double Progress()
    {
        if (IsSuccess()) return 1.0;
        if (IsFailure()) return 0.0;
        var move = Clamp01(1 - (PlanarDistance() - SuccessRadius) / (_d0 - SuccessRadius));
        var reach = Clamp01(1 - Math.Max(0, ReachDistance() - 0.02) / _r0);
        return Math.Min(0.999, 0.3 * reach + 0.7 * move);
    }

    public override double[] SaveState() => [_d0, _r0];

    public override void LoadState(ReadOnlySpan<double> state) => (_d0, _r0) = (state[0], state[1]);

    public override IExpert CreateExpert(double actionScale) => new PushExpert(actionScale);
}

/// <summary>
/// Scripted push: closed gripper as pusher; get behind the block on the target line (over the block if needed),
/// lower, push along the line while correcting sideways drift; re-approach if the block slips off the line.
/// </summary>
public sealed class PushExpert(double actionScale) : IExpert
{
    internal const double TravelHeight = 0.085;

    public void Reset() { }

    public void Act(Observation observation, Span<float> action)
    {
        var tcp = ExpertMath.Tcp(observation);
        var b = ExpertMath.Object(observation);
        var t = ExpertMath.Goal(observation);
        var u = PushTask.Direction(b, t);
        var n = new Vec3(-u.Y, u.X, 0);
        var rel = (tcp - b).WithZ(0);
        var along = rel.X * u.X + rel.Y * u.Y;
        var side = rel.X * n.X + rel.Y * n.Y;
        var prePush = new Vec3(b.X - PushTask.Standoff * u.X, b.Y - PushTask.Standoff * u.Y, PushTask.PushHeight);
        action[3] = 1f;

        var behind = along < -0.02 && along > -0.085 && Math.Abs(side) < 0.012;
        if (behind && tcp.Z < PushTask.PushHeight + 0.02)
        {
            // Push: aim the pusher at the point behind the target, steering the block back onto the line.
            var remaining = (t - b).NormXY;
            var aim = new Vec3(t.X - (PushTask.Standoff - 0.02) * u.X, t.Y - (PushTask.Standoff - 0.02) * u.Y, PushTask.PushHeight);
            var corr = -1.5 * side;
            var goal = new Vec3(tcp.X + Math.Min(remaining, 0.03) * u.X + corr * n.X, tcp.Y + Math.Min(remaining, 0.03) * u.Y + corr * n.Y, PushTask.PushHeight);
            if (remaining < 0.015) goal = aim;
            ExpertMath.MoveToward(tcp, goal, actionScale, action, 0.9);
            return;
        }

        var planar = (tcp - prePush).NormXY;
        if (planar > 0.01)
        {
            // Travel above the block when the straight path would hit it (or while low near it).
            var nearBlock = rel.NormXY < 0.075;
            var z = (nearBlock || tcp.Z > PushTask.PushHeight + 0.03) ? TravelHeight : tcp.Z;
            if (tcp.Z < TravelHeight - 0.02 && nearBlock)
            {
                ExpertMath.MoveToward(tcp, tcp.WithZ(TravelHeight), actionScale, action);
                return;
            }
            ExpertMath.MoveTowardKeepDirection(tcp, prePush.WithZ(z), actionScale, action);
            return;
        }
        ExpertMath.MoveToward(tcp, prePush, actionScale, action);
    }
}
