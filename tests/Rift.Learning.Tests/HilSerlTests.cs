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

    [Fact]
    public void Preload_Demonstrations_FillInterventionBufferOnly()
    {
        var learner = NewLearner();
        learner.Preload(Enumerable.Range(0, 40).Select(i => TestUtil.T(i / 40f, 0.5f, c: Controller.Human)));
        Assert.Equal(0, learner.Replay.Online.Count);
        Assert.Equal(40, learner.Replay.Interventions.Count);
        // With an empty online buffer every row comes from the demonstrations.
        Assert.Equal(0, learner.Update()["train/skipped_nonfinite"]);
    }

    [Fact]
    public void SaveLoad_IntoNewDirectory_ContinuesBitExact()
    {
        var a = NewLearner();
        Fill(a);
        for (var i = 0; i < 3; i++) a.Update();
        var dir = Path.Combine(TestUtil.TempDir(), "hil"); // not created yet: Save creates it
        a.Save(dir);
        var b = NewLearner();
        b.Load(dir);
        Assert.Equal(a.Replay.Online.Count, b.Replay.Online.Count);
        Assert.Equal(a.Replay.Interventions.Count, b.Replay.Interventions.Count);
        for (var i = 0; i < 3; i++) Assert.Equal(a.Update(), b.Update());
        Assert.Equal(TestUtil.Flatten(a.Sac.Actor), TestUtil.Flatten(b.Sac.Actor));
    }

    private static HilSerlLearner NewLearner() =>
        new(1, 1, new SacOptions { Hidden = "16", BatchSize = 32, Seed = 3 }, new HilSerlOptions(), new ReplayOptions { OnlineCapacity = 1000, InterventionCapacity = 100 });

    private static void Fill(HilSerlLearner learner)
    {
        var rng = new Rng(2);
        for (var i = 0; i < 100; i++)
            learner.Observe(TestUtil.T(rng.Uniform(-1, 1), rng.Uniform(-1, 1), r: i % 25 == 0 ? 1 : 0, x2: rng.Uniform(-1, 1), term: i % 25 == 0, c: i % 10 == 0 ? Controller.Human : Controller.Policy));
    }
}
