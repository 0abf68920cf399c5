using Rift.Agent.Loop;
using Rift.Learning;
using Rift.Sim;

namespace Rift.Agent.Bridge;

/// <summary>What a robot announces in its <c>hello</c>.</summary>
public sealed record SessionRequest(string Task, string Robot, int ActionSize, int PolicyInputSize, int? Seed);

/// <summary>The components a bridge session runs its <see cref="ArbitrationLoop"/> with.</summary>
public sealed class SessionComponents
{
    public required IPolicy Policy { get; init; }

    /// <summary>The agent (encoder, critic, trigger, memory, recovery policy); null runs policy + human only.</summary>
    public AgentComponents? Agent { get; init; }

    public required ArbitrationOptions Loop { get; init; }

    /// <summary>Called before each episode (e.g. to reset a stateful policy).</summary>
    public Action? BeginEpisode { get; init; }
}

/// <summary>Creates a session's components from the robot's <c>hello</c>; throw <see cref="BridgeProtocolException"/> to refuse it.</summary>
public interface IBridgeSessionFactory
{
    SessionComponents Create(SessionRequest request);
}

/// <summary>
/// The default session factory of <c>rift serve</c>: <see cref="BridgeOptions.Policy"/> as base policy (the task's
/// scripted expert with noise, or zero), no agent until trained components are plugged in, loop options from the
/// <c>Arbitration</c> section with the seed from the robot's hello when given.
/// </summary>
public sealed class DefaultSessionFactory(BridgeOptions options, ArbitrationOptions loop) : IBridgeSessionFactory
{
    public SessionComponents Create(SessionRequest request)
    {
        var loopOptions = CopyWithSeed(loop, request.Seed ?? loop.Seed);
        if (options.Policy == "zero")
            return new SessionComponents { Policy = new ZeroPolicy(request.PolicyInputSize, request.ActionSize), Loop = loopOptions };
        if (!SimTasks.TaskNames.Contains(request.Task))
            throw new BridgeProtocolException("unknown_task", $"policy 'expert' knows tasks {string.Join(", ", SimTasks.TaskNames)}, not '{request.Task}' (set Bridge:Policy=zero for other robots)");
        if (request.ActionSize != ObservationLayout.ActionSize || request.PolicyInputSize != ObservationLayout.PolicyInputSize)
            throw new BridgeProtocolException("bad_hello",
                $"task {request.Task} has action_size {ObservationLayout.ActionSize} and policy_input_size {ObservationLayout.PolicyInputSize}, the robot announced {request.ActionSize} and {request.PolicyInputSize}");
        var policy = new ExpertPolicy(SimTasks.CreateExpert(request.Task), options.PolicyNoise);
        return new SessionComponents { Policy = policy, Loop = loopOptions, BeginEpisode = policy.Reset };
    }

    /// <summary>A copy of <paramref name="o"/> with another seed (options objects are shared; never mutate them).</summary>
    public static ArbitrationOptions CopyWithSeed(ArbitrationOptions o, int seed)
    {
        var copy = RiftJson.Copy(o);
        copy.Seed = seed;
        return copy;
    }
}

/// <summary>Holds still: the zero action.</summary>
public sealed class ZeroPolicy(int inputSize, int actionSize) : IPolicy
{
    public int InputSize => inputSize;
    public int ActionSize => actionSize;

    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng) => action.Clear();
}

/// <summary>
/// A simulated task's scripted expert as a state policy over the policy input (proprio ‖ object state), with
/// Gaussian action noise when sampling: an imperfect stand-in prior for running the bridge before a trained policy exists.
/// </summary>
public sealed class ExpertPolicy(IExpert expert, double noise) : IPolicy
{
    public int InputSize => ObservationLayout.PolicyInputSize;
    public int ActionSize => ObservationLayout.ActionSize;

    public void Reset() => expert.Reset();

    public void Act(ReadOnlySpan<float> input, Span<float> action, bool deterministic, Random rng)
    {
        if (input.Length != InputSize) throw new ArgumentException($"ExpertPolicy input has {input.Length} values, expected {InputSize}.", nameof(input));
        var obs = new Observation
        {
            Proprio = input[..ObservationLayout.ProprioSize].ToArray(),
            ObjectState = input[ObservationLayout.ProprioSize..].ToArray(),
        };
        expert.Act(obs, action);
        if (deterministic || noise <= 0) return;
        for (var i = 0; i < action.Length; i++)
        {
            // Box–Muller from the loop's seeded stream.
            var u1 = 1.0 - rng.NextDouble();
            var u2 = rng.NextDouble();
            var n = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            action[i] = (float)Math.Clamp(action[i] + noise * n, -1.0, 1.0);
        }
    }
}

/// <summary>
/// The session factory of <c>rift serve --run RUN_DIR</c>: every robot session runs the trained agent of
/// <see cref="Online.DeployedAgent"/> (its own loop, critic smoother and trigger; shared networks and read-only memory).
/// A hello for another task or other sizes is refused naming what the run expects.
/// </summary>
public sealed class DeployedSessionFactory(Online.DeployedAgent agent) : IBridgeSessionFactory
{
    public Online.DeployedAgent Agent { get; } = agent ?? throw new ArgumentNullException(nameof(agent));

    public SessionComponents Create(SessionRequest request)
    {
        if (request.Task != Agent.Task)
            throw new BridgeProtocolException("unknown_task", $"this server serves the {Agent.Task} agent of run {Path.GetFileName(Agent.RunDirectory)}, the robot announced task '{request.Task}'");
        if (request.ActionSize != Agent.ActionSize || request.PolicyInputSize != Agent.InputSize)
            throw new BridgeProtocolException("bad_hello",
                $"the {Agent.Task} agent takes action_size {Agent.ActionSize} and policy_input_size {Agent.InputSize}, the robot announced {request.ActionSize} and {request.PolicyInputSize}");
        return Agent.Session(request.Seed);
    }
}
