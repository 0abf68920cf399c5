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
        // The online critic (rule trigger on Q, retrained every few episodes on a few thousand steps) was tuned with this
        // latent noise; `train critic` uses the option's default, 1.0.
        ["Critic:LatentNoise"] = "0.3",
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
        // Trigger on 6 values instead of 8: the simulated human loses patience after 20 stalled steps, so every step the
        // trigger waits is a step the recovery does not get (measured: human IR 0.101 at K = 6 vs 0.156 at K = 8, push).
        ["RiskTrigger:WindowSize"] = "6",
        ["RiskTrigger:MinSamples"] = "6",
        // Recovery: no escalation on a falling value — escalating summons the human at once, while the human watches
        // anyway (stuck, unsafe) and the online critic's values under sampled actions dip often (measured: 18 of 49
        // takeovers came from escalations). A recovery asks for help only when its budget is spent.
        ["Arbitration:EscalateValueDrop"] = "10",
        ["Arbitration:EscalateFallingSteps"] = "0",
        ["Arbitration:RecoveryBudgetSteps"] = "64",
        // Hand back near success: the recovery policy, fitted on the human's takeovers from π0's stall states, does better
        // than π0 from those states, and π0 handed back too early stalls again (measured: human IR 0.092 vs 0.101 at 0.5).
        ["Arbitration:HandBackValue"] = "0.9",
        ["Arbitration:MinRecoverySteps"] = "4",
        ["Arbitration:HandBackMinGain"] = "0.1",
        // Recovery policy sized like π0, fitted in ~2 s on 2 cores. Measured on π0's stall states (push): single-step
        // decoding and the memory goal left out of training did better than 8-step chunks and memory-retrieved goals.
        ["RecoveryPolicy:Hidden"] = "128,128",
        ["RecoveryPolicy:Steps"] = "3000",
        ["RecoveryPolicy:ChunkSize"] = "1",
        ["RecoveryPolicy:RetrievedGoalProbability"] = "0",
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
        RecoveryPolicy = host.Options<RecoveryPolicyOptions>(),
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
