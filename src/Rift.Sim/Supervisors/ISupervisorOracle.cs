namespace Rift.Sim.Supervisors;

/// <summary>
/// Privileged read-outs a simulated supervisor may use (never the agent): oracle progress, a one-step value gap
/// against the scripted expert, and an unsafe-state flag. <see cref="SimEnvironment"/> implements it.
/// </summary>
public interface ISupervisorOracle
{
    /// <summary>Oracle progress Φ(s) ∈ [0, 1] of the current state.</summary>
    double Progress { get; }

    /// <summary>Q*(s, π*(s)) − Q*(s, a) for the last step, in units of Φ.</summary>
    double ValueGap();

    /// <summary>The current state is unsafe (object leaving the table, gripper straining against contact).</summary>
    bool IsUnsafe { get; }
}
