using Rift.Agent.Bridge;
using Rift.Agent.Loop;
using Rift.Agent.Tests.Loop;
using Rift.Learning;
using Rift.Memory;
using Rift.ValueCritic;

namespace Rift.Agent.Tests.Bridge;

/// <summary>
/// Components over the 1-D <see cref="FakeEnvironment"/> that exercise every path of the loop: a policy that stalls
/// around x = 0.4 (noisy when sampling), critic q = x (so the plateau rule fires), a memory goal and a recovery policy
/// that pushes x up (recoveries hand back), and a supervisor that takes over once per episode.
/// </summary>
internal sealed class FakeWorldFactory : IBridgeSessionFactory
{
    public int Created;

    public SessionComponents Create(SessionRequest request)
    {
        Created++;
        if (request.PolicyInputSize != 2 || request.ActionSize != 2)
            throw new BridgeProtocolException("bad_hello", $"fake world takes input 2 and action 2, got {request.PolicyInputSize} and {request.ActionSize}");
        return Components(request.Seed ?? 0);
    }

    public static SessionComponents Components(int seed) => new()
    {
        Policy = new StallingPolicy(),
        Agent = new AgentComponents(
            new FakeEncoder(3),
            new PositionCritic(),
            new RiskTrigger(),
            new FakeMemory(new RecoveryTarget(7, [1f, 0f, 0.5f], 0.9f, 0.8f, RecoverySource.Agent, 0, 12)),
            new FakeRecoveryPolicy(2, 3, [1f, 0f])),
        Loop = new ArbitrationOptions { DecisionDeadlineMs = 0, Seed = seed },
    };

    /// <summary>Takes over at step 30 of each episode (if the robot is in control) for 5 steps with action (1, 0).</summary>
    public static ScriptedSupervisor Supervisor()
    {
        var since = -1;
        return new ScriptedSupervisor(ctx =>
        {
            if (ctx.HumanInControl)
            {
                since++;
                return since >= 5 ? new HumanDecision(HumanDecisionKind.HandBack) : new HumanDecision(HumanDecisionKind.None, [1f, 0f]);
            }
            if (ctx.Step == 30 && ctx.CurrentController == Controller.Policy)
            {
                since = 0;
                return new HumanDecision(HumanDecisionKind.TakeOver, [1f, 0f]);
            }
            return HumanDecision.None;
        });
    }
}

/// <summary>Moves right, but slows to a crawl around x = 0.4; Gaussian noise when sampling.</summary>
internal sealed class StallingPolicy : IPolicy
{
    public int InputSize => 2;
    public int ActionSize => 2;

    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng)
    {
        var x = input[0];
        action[0] = x is > 0.38f and < 0.5f ? 0.02f : 0.6f;
        action[1] = 0f;
        if (!deterministic) action[0] += (float)(0.2 * (rng.NextDouble() - 0.5));
    }
}

/// <summary>q = z[0] (the position), a progress-aligned value for the fake world.</summary>
internal sealed class PositionCritic : IValueCritic
{
    public int EmbeddingSize => 3;
    public int ActionSize => 2;
    public float Evaluate(ReadOnlySpan<float> z, ReadOnlySpan<float> action) => z[0];
}
