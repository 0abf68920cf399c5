using Rift.Agent.Operator;
using Rift.Learning;

namespace Rift.Agent.Bridge;

/// <summary>
/// The human side of a bridge session: the operator at the console first (e-stop, takeover toggle), then the
/// robot-side decision sent with the observation (a teleop device next to the robot, or a simulated supervisor in
/// simulation). Reads only flags set by other threads, so the loop asks it before any agent computation and an
/// e-stop takes effect on the robot's next step.
/// </summary>
public sealed class BridgeSupervisor(OperatorControl control, bool operatorOnly = false) : IHumanSupervisor
{
    private int _pendingEStop;
    private bool _consoleInControl;

    /// <summary>The robot-side decision for the step about to be decided (set by the session before each step).</summary>
    public HumanDecision RobotDecision { get; set; } = HumanDecision.None;

    /// <summary>An e-stop for the next step only (used when the operator's e-stop is not latched).</summary>
    public void RequestEStop() => Interlocked.Exchange(ref _pendingEStop, 1);

    public void Reset(int episodeSeed)
    {
        _consoleInControl = false;
    }

    public HumanDecision Decide(in SupervisorContext context)
    {
        var pressed = Interlocked.Exchange(ref _pendingEStop, 0) == 1;
        if (pressed || control.EStopEngaged)
            return new HumanDecision(HumanDecisionKind.EStop);
        var robot = operatorOnly ? HumanDecision.None : RobotDecision;
        if (robot.Kind == HumanDecisionKind.EStop) return robot;
        if (control.TakeoverRequested && !operatorOnly)
        {
            if (!context.HumanInControl)
            {
                _consoleInControl = true;
                return new HumanDecision(HumanDecisionKind.TakeOver, robot.Action);
            }
            return new HumanDecision(HumanDecisionKind.None, robot.Action);
        }
        if (_consoleInControl && context.HumanInControl)
        {
            _consoleInControl = false;
            return new HumanDecision(HumanDecisionKind.HandBack);
        }
        _consoleInControl = false;
        return robot;
    }
}
