using Microsoft.Extensions.Hosting;
using Rift.Agent.Cli;
using Rift.Agent.Events;
using Rift.Agent.Loop;
using Rift.Learning;
using Rift.Memory;
using Rift.Sim;
using Rift.Sim.Supervisors;
using Rift.ValueCritic;

namespace Rift.Agent.Online;

/// <summary>
/// Configuration defaults of online runs (`train online`, `bench agent`, `demo`) where they differ from the
/// components' own defaults; any <c>--Section:Key=value</c> on the command line still wins.
/// </summary>
public static class OnlineDefaults
{
    public static IReadOnlyDictionary<string, string?> Keys { get; } = new Dictionary<string, string?>
    {
        // Simulation has no wall-clock deadline to meet; a 50 ms deadline on 2 shared cores only adds spurious stops.
        ["Arbitration:DecisionDeadlineMs"] = "0",
        // Short online budgets: the actor may move after a brief critic warm-up (RIFT B.1 freezes for 2000 of ~100k).
        ["Rift:ActorFreezeSteps"] = "300",
        ["Sac:BatchSize"] = "128",
        // Fine-tuning from π0: start with little entropy bonus so the first actor updates do not wash the prior out
        // (HiL-SERL's temperature_init is 1e-2).
        ["Sac:InitialTemperature"] = "0.01",
        // Short online budgets: a prior weight 10× RIFT's default (ω/(2σ²) = 2 on ‖a − μ0‖²) keeps the actor near π0
        // while the critic has seen few interventions (RIFT: working ω spans 1–2 orders of magnitude).
        ["Rift:Omega"] = "0.01",
        // The simulated human notices stagnation (no progress for 20 steps = 2 s at 10 Hz) or an unsafe state, reacts
        // 2 steps later, and answers the agent's help requests; the same supervisor for every compared method.
        ["SimSupervisor:Triggers"] = "Stuck, Unsafe",
        ["SimSupervisor:PatienceSteps"] = "20",
        ["SimSupervisor:ReactionDelaySteps"] = "2",
        // Online critic values are noisier than offline ones (sampled actions): ignore single-step dips.
        ["RiskTrigger:AbruptDrop"] = "0.25",
        ["RiskTrigger:AbruptConfirmSteps"] = "2",
        ["RiskTrigger:PlateauRange"] = "0.08",
        ["RiskTrigger:PlateauValue"] = "0.6",
        ["RiskTrigger:DeclineMinDrop"] = "0.1",
        // Recovery: give the recovery policy room before escalating on a falling (sampled-action) value.
        ["Arbitration:EscalateValueDrop"] = "0.3",
        ["Arbitration:MinRecoverySteps"] = "4",
        ["Arbitration:HandBackMinGain"] = "0.1",
    };

    /// <summary>
    /// <c>train online</c> only, layered over <see cref="Keys"/> (`bench agent` and `demo` keep the state embedding and
    /// <see cref="Keys"/>): the agent works on rendered camera frames through the frozen conv encoder (≈ 1.4× the CPU time
    /// of the state embedding; fewer human interventions and more successful recoveries on push), and escalates only on a
    /// larger value drop (0.5) or after 10 falling steps (push seed 0: human IR 0.145 instead of 0.163; no consistent
    /// effect on seeds 1–2). Measurements in docs/online.md.
    /// </summary>
    public static IReadOnlyDictionary<string, string?> TrainOnlineKeys { get; } = new Dictionary<string, string?>
    {
        ["Online:Encoder"] = "Conv",
        ["Arbitration:EscalateValueDrop"] = "0.5",
        ["Arbitration:EscalateFallingSteps"] = "10",
    };

    /// <summary>Binds every option an online run uses from <paramref name="host"/>.</summary>
    public static OnlineSettings Settings(IHost host) => new()
    {
        Online = host.Options<OnlineOptions>(),
        Sac = host.Options<SacOptions>(),
        Rift = host.Options<RiftOptions>(),
        Replay = host.Options<ReplayOptions>(),
        HilSerl = host.Options<HilSerlOptions>(),
        Arbitration = host.Options<ArbitrationOptions>(),
        Trigger = host.Options<RiskTriggerOptions>(),
        Supervisor = host.Options<SimSupervisorOptions>(),
        Sim = host.Options<SimOptions>(),
        Memory = host.Options<RecoveryMemoryOptions>(),
        Critic = host.Options<CriticOptions>(),
        EventLog = host.Options<EventLogOptions>(),
    };

    /// <summary><paramref name="extra"/> layered over <see cref="Keys"/>.</summary>
    public static Dictionary<string, string?> With(IReadOnlyDictionary<string, string?>? extra)
    {
        var d = new Dictionary<string, string?>(Keys);
        if (extra is not null) foreach (var (k, v) in extra) d[k] = v;
        return d;
    }
}

/// <summary>An <see cref="IProgress{T}"/> over a delegate, reporting on the caller's thread.</summary>
public sealed class SyncProgressShim(Action<OnlineProgress> report) : IProgress<OnlineProgress>
{
    public void Report(OnlineProgress value) => report(value);
}
