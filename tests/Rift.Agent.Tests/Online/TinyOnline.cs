using Rift.Agent.Online;
using Rift.Sim.Supervisors;

namespace Rift.Agent.Tests.Online;

/// <summary>Online settings small enough for a run of a few episodes to train in about a second.</summary>
internal static class TinyOnline
{
    public static OnlineSettings Settings(int maxEpisodeSteps = 25, int evalEvery = 2, int triggerWindow = 4)
    {
        var s = new OnlineSettings();
        s.Online.Hidden = "16,16";
        s.Online.Demos = 2;
        s.Online.PriorSteps = 30;
        s.Online.PriorRollouts = 1;
        s.Online.CriticSteps = 10;
        s.RecoveryPolicy.Steps = 10;
        s.RecoveryPolicy.Hidden = "16,16";
        s.RecoveryPolicy.BatchSize = 32;
        s.Online.RefitEvery = 2;
        s.Online.EvalEpisodes = 1;
        s.Online.EvalEvery = evalEvery;
        s.Online.CheckpointEvery = 2;
        s.Online.WarmupTransitions = 16;
        s.Online.UpdatesPerStep = 0.25;
        s.Sac.BatchSize = 16;
        s.Rift.ActorFreezeSteps = 5;
        s.Sim.MaxEpisodeSteps = maxEpisodeSteps;
        s.Arbitration.DecisionDeadlineMs = 0;
        s.Supervisor.Triggers = SupervisorTriggers.Stuck | SupervisorTriggers.Unsafe;
        s.Supervisor.PatienceSteps = 6;
        s.Trigger.MinSamples = triggerWindow;
        s.Trigger.WindowSize = triggerWindow;
        s.Critic.BatchSize = 16;
        s.Critic.PredictorHidden = 16;
        s.Critic.ValueHidden = 8;
        s.Critic.LatentNoise = 0.3; // as OnlineDefaults
        return s;
    }
}
