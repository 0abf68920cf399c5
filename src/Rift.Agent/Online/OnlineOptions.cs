using System.ComponentModel.DataAnnotations;

namespace Rift.Agent.Online;

/// <summary>What learns and who intervenes in an online run.</summary>
public enum OnlineMethod
{
    /// <summary>RIFT residual SAC around π0 plus Rift's agentic intervention (trigger → synthetic e-stop → memory goal → recovery policy).</summary>
    Rift = 0,

    /// <summary>HiL-SERL-style SAC from π0 (sparse success reward, 50/50 online/intervention replay); agent disabled, human takeovers only.</summary>
    Hil = 1,

    /// <summary>RIFT residual SAC with the agent disabled (learns from the human's interventions only).</summary>
    RiftNoAgent = 2,

    /// <summary>HiL + a failure-classifier trigger (FA-RL style): the agent's pipeline with a learned failure probability instead of the temporal value-risk trigger.</summary>
    Fa = 3,

    /// <summary>RLIF: residual SAC with ω = 0 (reward −e only, no prior term); agent disabled.</summary>
    Rlif = 4,

    /// <summary>The prior π0 alone: no learning, no agent (the supervisor still watches training rollouts).</summary>
    Prior = 5,
}

/// <summary>Online training through the arbitration loop (configuration section <c>Online</c>).</summary>
public sealed class OnlineOptions
{
    /// <summary>Hidden sizes of the prior π0, the SAC actor and critics, and the recovery policy in online runs (overrides Sac:Hidden). Default "128,128".</summary>
    [Required]
    public string Hidden { get; set; } = "128,128";

    /// <summary>Scripted-expert demonstrations behind π0, the recovery policy's first fit and the critic's first fit. Default 20.</summary>
    [Range(1, 10000)]
    public int Demos { get; set; } = 20;

    /// <summary>Gaussian noise on the demonstrator's actions (makes π0 imperfect in a realistic way). Default 0.1.</summary>
    [Range(0.0, 2.0)]
    public double DemoNoise { get; set; } = 0.1;

    /// <summary>Behaviour-cloning steps for π0. Default 1500.</summary>
    [Range(1, 1_000_000)]
    public int PriorSteps { get; set; } = 1500;

    /// <summary>Rollouts of π0 (no supervisor) added to the demos for the critic's and failure classifier's first fit. Default 10.</summary>
    [Range(0, 10000)]
    public int PriorRollouts { get; set; } = 10;

    /// <summary>π0 rollouts under the simulated takeover supervisor at setup (the human's takeovers from π0's failure states);
    /// shared by every method of a (task, seed): recovery-policy data for rift/fa and demo/intervention-buffer data for HiL-SERL. Default 30.</summary>
    [Range(0, 10000)]
    public int SetupTakeoverEpisodes { get; set; } = 30;

    /// <summary>The recovery policy gets the memory's target only when cos(z, z*) ≥ this; otherwise the null goal (goal-free mode). Default 0.9.</summary>
    [Range(-1.0, 1.0)]
    public double RecoveryGoalSimilarity { get; set; } = 0.9;

    /// <summary>Gradient steps of each critic fit (first fit and refits). Default 1500.</summary>
    [Range(1, 1_000_000)]
    public int CriticSteps { get; set; } = 1500;

    /// <summary>Refit the critic and recovery policy every this many episodes on all data so far (0 = never). Default 6.</summary>
    [Range(0, 100000)]
    public int RefitEvery { get; set; } = 6;

    /// <summary>Between full refits, refit the recovery policy alone every this many episodes (0, default: only with the full refits).</summary>
    [Range(0, 100000)]
    public int RecoveryRefitEvery { get; set; }

    /// <summary>Gradient steps of each recovery-policy refit after the first fit (which takes RecoveryPolicy:Steps), continuing from the current weights. Default 1000.</summary>
    [Range(1, 1_000_000)]
    public int RecoveryRefitSteps { get; set; } = 1000;

    /// <summary>Learner updates per environment step collected (update-to-data ratio). Default 1.</summary>
    [Range(0.0, 64.0)]
    public double UpdatesPerStep { get; set; } = 1.0;

    /// <summary>Transitions collected before the learner's first update. Default 256.</summary>
    [Range(1, 10_000_000)]
    public int WarmupTransitions { get; set; } = 256;

    /// <summary>Deterministic evaluation episodes (no interventions) per evaluation. Default 10.</summary>
    [Range(1, 100000)]
    public int EvalEpisodes { get; set; } = 10;

    /// <summary>Evaluate every this many training episodes (0 = only at the end). Default 10.</summary>
    [Range(0, 100000)]
    public int EvalEvery { get; set; } = 10;

    /// <summary>Write a checkpoint every this many episodes (0 = only at the end). Default 5.</summary>
    [Range(0, 100000)]
    public int CheckpointEvery { get; set; } = 5;

    /// <summary>Failure-classifier threshold of the FA-RL baseline: fire when p(failure | z) ≥ this. Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double FailureThreshold { get; set; } = 0.5;

    /// <summary>β of the per-episode exponential smoothing of critic values fed to the trigger and hand-back rules (0 = raw values). Default 0.5.</summary>
    [Range(0.0, 0.99)]
    public double ValueSmoothing { get; set; } = 0.5;

    /// <summary>
    /// The agent's embedding space (critic, recovery memory, recovery goals): <c>State</c> = proprio and object state
    /// standardised (no rendering), <c>Conv</c> = every step's camera frame rendered and encoded by the frozen conv
    /// encoder. The SAC policy always takes the state input. Default State.
    /// </summary>
    public OnlineEncoder Encoder { get; set; } = OnlineEncoder.State;

    /// <summary>Weights of the frozen frame encoder under Encoder=Conv (empty: models/encoder/{task}.safetensors). Default "".</summary>
    public string EncoderPath { get; set; } = "";

    /// <summary>Folder that holds run folders. Default "runs".</summary>
    [Required]
    public string RunsDirectory { get; set; } = "runs";
}
