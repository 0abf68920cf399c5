using Rift.Nn;

namespace Rift.Learning.Tests;

public class HilSerlTests
{
    [Fact]
    public void Update_HumanTakeovers_GoToBothBuffersAndBatchesAreHalfHuman()
    {
        var learner = new HilSerlLearner(1, 1, new SacOptions { Hidden = "16", BatchSize = 32 }, new HilSerlOptions(), new ReplayOptions { OnlineCapacity = 1000, InterventionCapacity = 100 });
        var rng = new Rng(1);
        for (var i = 0; i < 200; i++)
        {
            var human = i % 20 == 0;
            learner.Observe(new Transition
            {
                Input = [rng.Uniform(-1, 1)], Action = [rng.Uniform(-1, 1)], NextInput = [rng.Uniform(-1, 1)], Reward = i % 50 == 0 ? 1 : 0,
                Terminated = i % 50 == 0, Controller = human ? Controller.Human : Controller.Policy,
            });
        }
        Assert.Equal(200, learner.Replay.Online.Count);
        Assert.Equal(10, learner.Replay.Interventions.Count);
        for (var i = 0; i < 4; i++) Assert.Equal(0, learner.Update()["train/skipped_nonfinite"]);
        Assert.Equal(2, learner.Sac.Options.CriticActorRatio);
        Assert.Equal(2, learner.Sac.ActorUpdates);
        Assert.Equal(-0.5f, learner.Sac.TargetEntropy);
    }
}
