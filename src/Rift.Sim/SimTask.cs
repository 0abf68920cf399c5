using Rift.Learning;

namespace Rift.Sim;

/// <summary>
/// One manipulation task on the shared gripper scene: its MJCF file, initial-condition randomisation, success
/// test, oracle progress Φ(s) ∈ [0, 1] (privileged; for simulated supervisors and evaluation only) and scripted
/// expert. The environment (<see cref="SimEnvironment"/>) owns stepping, actions and observations.
/// </summary>
public abstract class SimTask
{
    /// <summary>Half extents of the table top (x, y), metres.</summary>
    public const double TableHalfX = 0.32, TableHalfY = 0.26;

    public abstract string Name { get; }

    /// <summary>Scene file name inside the models folder.</summary>
    public abstract string ModelFile { get; }

    public abstract int DefaultMaxEpisodeSteps { get; }

    /// <summary>Lowest gripper command height (TCP z, metres).</summary>
    public virtual double MinCommandZ => 0.012;

    /// <summary>The scene this task runs on; set by the environment.</summary>
    public SimScene Scene { get; internal set; } = null!;

    /// <summary>Places gripper, object and target from <paramref name="rng"/> (after mj_resetData).</summary>
    public abstract void Randomise(Random rng);

    /// <summary>Records the episode's reference distances after the scene settled.</summary>
    public abstract void BeginEpisode();

    /// <summary>The point the task tracks as "the object" (block centre; peg tip).</summary>
    public virtual Vec3 ObjectPoint => Scene.ObjectPos;

    /// <summary>The object's goal point.</summary>
    public virtual Vec3 GoalPoint => Scene.Target;

    public abstract bool IsSuccess();

    /// <summary>An unrecoverable state that ends the episode (object off the table).</summary>
    public virtual bool IsFailure()
    {
        var p = Scene.ObjectPos;
        return p.Z < -0.03 || Math.Abs(p.X) > TableHalfX + 0.02 || Math.Abs(p.Y) > TableHalfY + 0.02;
    }

    /// <summary>A state a safety-minded supervisor would stop: failure, or the gripper straining against contact.</summary>
    public virtual bool IsUnsafe() => IsFailure() || (Scene.GripperCommand - Scene.Tcp).Norm > 0.035;

    /// <summary>Oracle progress Φ(s) ∈ [0, 1], monotone along the scripted expert's path; 1 on success.</summary>
    public abstract double Progress();

    /// <summary>Finger closing target for grip action <paramref name="grip"/> ∈ [-1, 1] (-1 open, +1 closed).</summary>
    public virtual double GripClosing(double grip) => (grip + 1) / 2 * SimScene.MaxClosing;

    /// <summary>Task state beyond physics (the episode's reference distances), for snapshots.</summary>
    public abstract double[] SaveState();

    public abstract void LoadState(ReadOnlySpan<double> state);

    /// <summary>A scripted expert for this task; <paramref name="actionScale"/> is metres per unit action.</summary>
    public abstract IExpert CreateExpert(double actionScale);

    protected static double Clamp01(double v) => Math.Clamp(v, 0.0, 1.0);

    protected static double Uniform(Random rng, double lo, double hi) => lo + (hi - lo) * rng.NextDouble();
}
