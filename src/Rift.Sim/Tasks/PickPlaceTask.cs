using Rift.Learning;

namespace Rift.Sim.Tasks;

/// <summary>
/// pick-place: grasp a 4 cm block and bring it to a green target point 6–14 cm above the table (success: block
/// centre within 2.5 cm of the target). Failure modes: closing off-centre, dropping the block, knocking it away.
/// </summary>
public sealed class PickPlaceTask : SimTask
{
    public const double BlockHalf = 0.02;
    public const double SuccessRadius = 0.025;

    private double _d0 = 0.2, _r0 = 0.2;

    public override string Name => "pick-place";
    public override string ModelFile => "pick_place.xml";
    public override int DefaultMaxEpisodeSteps => 80;

    public override void Randomise(Random rng)
    {
        var block = new Vec3(Uniform(rng, -0.12, 0.12), Uniform(rng, -0.10, 0.08), BlockHalf);
        Vec3 target;
        do target = new Vec3(Uniform(rng, -0.15, 0.15), Uniform(rng, -0.10, 0.12), Uniform(rng, 0.06, 0.14));
        while ((target - block).NormXY < 0.08);
        Vec3 hand;
        do hand = new Vec3(Uniform(rng, -0.15, 0.15), Uniform(rng, -0.16, 0.12), Uniform(rng, 0.10, 0.15));
        while ((hand - block).NormXY < 0.05);
        Scene.PlaceObject(block, Uniform(rng, -0.25, 0.25));
        Scene.SetTarget(target);
        Scene.PlaceGripper(hand, 0);
    }

    public override void BeginEpisode()
    {
        _d0 = Math.Max((Scene.ObjectPos - Scene.Target).Norm, SuccessRadius + 0.01);
        _r0 = Math.Max((Scene.Tcp - Scene.ObjectPos).Norm, 0.05);
    }

    /// <summary>The block is between the fingers and they are closed on it.</summary>
    public bool IsGrasped()
    {
        var rel = Scene.ObjectPos - Scene.Tcp;
        return Scene.FingerGap < 2 * BlockHalf + 0.004 && Scene.FingerGap > 2 * BlockHalf - 0.012
               && rel.NormXY < 0.015 && Math.Abs(rel.Z) < 0.02;
    }

    public override bool IsSuccess() => (Scene.ObjectPos - Scene.Target).Norm < SuccessRadius;

    // Φ = 0.3·reach + 0.1·grasped + 0.6·carry: dropping the block loses the grasp term and, as it falls, carry.
    public override double Progress()
    {
        if (IsSuccess()) return 1.0;
        if (IsFailure()) return 0.0;
        var reach = Clamp01(1 - Math.Max(0, (Scene.Tcp - Scene.ObjectPos).Norm - 0.01) / _r0);
        var grasped = IsGrasped();
        var carry = grasped ? Clamp01(1 - ((Scene.ObjectPos - Scene.Target).Norm - SuccessRadius) / (_d0 - SuccessRadius)) : 0.0;
        return Math.Min(0.999, 0.3 * reach + 0.1 * (grasped ? 1 : 0) + 0.6 * carry);
    }

    public override double[] SaveState() => [_d0, _r0];

    public override void LoadState(ReadOnlySpan<double> state) => (_d0, _r0) = (state[0], state[1]);

    public override IExpert CreateExpert(double actionScale) => new PickPlaceExpert(actionScale);
}

/// <summary>Scripted pick-and-place: open, go above the block, descend, close, lift and carry to the target.</summary>
public sealed class PickPlaceExpert(double actionScale) : IExpert
{
    private const double TravelHeight = 0.08;

    public void Reset() { }

    public void Act(Observation observation, Span<float> action)
    {
        var tcp = ExpertMath.Tcp(observation);
        var b = ExpertMath.Object(observation);
        var t = ExpertMath.Goal(observation);
        var gap = ExpertMath.Gap(observation);
        var rel = b - tcp;
        var atBlock = rel.NormXY < 0.01 && Math.Abs(rel.Z) < 0.012;
        var holding = rel.NormXY < 0.015 && Math.Abs(rel.Z) < 0.02 && gap < 2 * PickPlaceTask.BlockHalf + 0.004 && gap > 0.02;

        if (holding)
        {
            action[3] = 1f;
            // Lift first when low, then carry the block (not the TCP) to the target.
            var goal = b.Z < 0.05 ? new Vec3(b.X, b.Y, t.Z + 0.02 > 0.07 ? t.Z : 0.07) : t;
            ExpertMath.MoveTowardKeepDirection(b, goal, actionScale, action, 0.8);
            return;
        }
        if (atBlock)
        {
            // Close in place until the fingers rest on the block.
            action[0] = action[1] = action[2] = 0f;
            action[3] = 1f;
            return;
        }
        action[3] = -1f;
        if (rel.NormXY > 0.008)
        {
            var z = Math.Max(TravelHeight, Math.Min(tcp.Z, 0.15));
            if (tcp.Z < TravelHeight - 0.02 && rel.NormXY > 0.03)
            {
                ExpertMath.MoveToward(tcp, tcp.WithZ(TravelHeight), actionScale, action);
                return;
            }
            ExpertMath.MoveToward(tcp, new Vec3(b.X, b.Y, rel.NormXY < 0.02 ? tcp.Z : z), actionScale, action, 0.9);
            return;
        }
        // Wait for the fingers to open before descending over the block.
        if (gap < 0.07)
        {
            action[0] = action[1] = action[2] = 0f;
            return;
        }
        ExpertMath.MoveToward(tcp, b, actionScale, action, 0.9);
    }
}
