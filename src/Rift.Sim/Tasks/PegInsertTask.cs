using Rift.Learning;

namespace Rift.Sim.Tasks;

/// <summary>
/// peg-insert: a 20 mm square peg held by the gripper goes into a 22 mm square, 40 mm deep hole (2 mm total
/// clearance). Success: peg tip within 10 mm of the hole bottom and within 5 mm of its axis. The grip action is
/// ignored (the fingers hold the peg). Failure mode: descending off-axis jams the tip on the hole's rim.
/// </summary>
public sealed class PegInsertTask : SimTask
{
    public const double PegHalfLength = 0.03;
    public const double FixtureTop = 0.04;
    public const double SuccessDepth = 0.01;

    private double _xy0 = 0.1, _h0 = 0.1;

    public override string Name => "peg-insert";
    public override string ModelFile => "peg_insert.xml";
    public override int DefaultMaxEpisodeSteps => 60;
    public override double MinCommandZ => 0.02;

    public override void Randomise(Random rng)
    {
        var hole = new Vec3(Uniform(rng, -0.12, 0.12), Uniform(rng, -0.06, 0.10), 0);
        Vec3 tip;
        do tip = new Vec3(Uniform(rng, -0.18, 0.18), Uniform(rng, -0.15, 0.12), Uniform(rng, 0.07, 0.12));
        while ((tip - hole).NormXY < 0.07);
        Scene.SetTarget(hole);
        var tcp = tip + new Vec3(0, 0, PegHalfLength);
        Scene.PlaceGripper(tcp, PegClosing);
        Scene.PlaceObject(tcp, 0);
    }

    /// <summary>Finger closing that rests the fingers on the 20 mm peg.</summary>
    private const double PegClosing = (SimScene.OpenGap - 0.02) / 2;

    public override double GripClosing(double grip) => PegClosing;

    public override void BeginEpisode()
    {
        var tip = ObjectPoint;
        _xy0 = Math.Max((tip - Scene.Target).NormXY, 0.01);
        _h0 = Math.Max(tip.Z, FixtureTop + 0.01);
    }

    /// <summary>The peg's tip (lower end centre).</summary>
    public override Vec3 ObjectPoint => Scene.ObjectPos - PegHalfLength * Scene.ObjectUp;

    public override bool IsSuccess()
    {
        var tip = ObjectPoint;
        return tip.Z < SuccessDepth && (tip - Scene.Target).NormXY < 0.005;
    }

    public override bool IsFailure() => false;

    // Φ = 0.4·align + 0.6·depth; depth below the fixture's top counts only once the tip is over the hole, so that
    // a peg resting on the rim stagnates.
    public override double Progress()
    {
        if (IsSuccess()) return 1.0;
        var tip = ObjectPoint;
        var dxy = (tip - Scene.Target).NormXY;
        var align = Clamp01(1 - Math.Max(0, dxy - 0.001) / _xy0);
        var floor = dxy < 0.004 ? SuccessDepth : FixtureTop;
        var depth = Clamp01((_h0 - Math.Max(tip.Z, floor)) / (_h0 - SuccessDepth));
        return Math.Min(0.999, 0.4 * align + 0.6 * depth);
    }

    public override double[] SaveState() => [_xy0, _h0];

    public override void LoadState(ReadOnlySpan<double> state) => (_xy0, _h0) = (state[0], state[1]);

    public override IExpert CreateExpert(double actionScale) => new PegInsertExpert(actionScale);
}

/// <summary>Scripted insertion: rise to a safe height, centre the tip over the hole to within 1 mm, then descend.</summary>
public sealed class PegInsertExpert(double actionScale) : IExpert
{
    private const double SafeTip = PegInsertTask.FixtureTop + 0.02;

    public void Reset() { }

    public void Act(Observation observation, Span<float> action)
    {
        var tip = ExpertMath.Object(observation);
        var tcp = ExpertMath.Tcp(observation);
        var hole = ExpertMath.Goal(observation);
        action[3] = 1f;
        var dxy = (tip - hole).NormXY;
        var inHole = tip.Z < PegInsertTask.FixtureTop + 0.002 && dxy < 0.004;
        if (inHole || dxy < 0.0012)
        {
            // Over the hole: descend, keep centring.
            var goal = new Vec3(hole.X, hole.Y, 0.0);
            ExpertMath.MoveToward(tip, goal, actionScale, action, 0.8);
            action[2] = Math.Min(action[2], -0.6f);
            return;
        }
        if (tip.Z < SafeTip - 0.01)
        {
            // Too low to travel: rise first (also lifts a jammed peg off the rim).
            ExpertMath.MoveToward(tip, new Vec3(tip.X + 0.3 * (hole.X - tip.X), tip.Y + 0.3 * (hole.Y - tip.Y), SafeTip), actionScale, action);
            return;
        }
        ExpertMath.MoveToward(tip, new Vec3(hole.X, hole.Y, SafeTip), actionScale, action, 0.8);
        _ = tcp;
    }
}
