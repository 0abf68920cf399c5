using Rift.Nn;

namespace Rift.Learning.Tests;

public class SacTests
{
    private static SacOptions Small(int seed = 0) => new()
    {
        Hidden = "32,32", BatchSize = 64, Gamma = 0.9, ActorLearningRate = 1e-3, CriticLearningRate = 1e-3,
        TemperatureLearningRate = 1e-3, InitialTemperature = 0.1, Seed = seed,
    };

    /// <summary>1-D reach: x' = clip(x + 0.25a), reward −|x' − 0.5|, 10-step episodes ending in truncation.</summary>
    [Fact]
    public void Update_OneDimensionalReach_PolicyReachesGoal()
    {
        const float goal = 0.5f;
        var sac = new Sac(1, 1, Small());
        var replay = new ReplayBuffer(10_000, 1, 1);
        var batch = new Batch(64, 1, 1);
        var rng = new Rng(3);
        var sys = new Random(3);
        var a = new float[1];
        for (var episode = 0; episode < 200; episode++)
        {
            var x = rng.Uniform(-1, 1);
            for (var t = 0; t < 10; t++)
            {
                sac.Act([x], a, false, sys);
                var x2 = Math.Clamp(x + 0.25f * a[0], -1f, 1f);
                replay.Add(new Transition { Input = [x], Action = [a[0]], Reward = -Math.Abs(x2 - goal), NextInput = [x2], Truncated = t == 9 });
                x = x2;
                if (replay.Count < 256) continue;
                replay.SampleInto(batch, 0, batch.Size, rng);
                sac.Update(batch);
            }
        }
        foreach (var x0 in new[] { -0.9f, 0f, 0.95f })
        {
            var x = x0;
            for (var t = 0; t < 10; t++)
            {
                sac.Act([x], a, true, sys);
                x = Math.Clamp(x + 0.25f * a[0], -1f, 1f);
            }
            Assert.True(Math.Abs(x - goal) < 0.1, $"from {x0} the policy ended at {x}, goal {goal}");
        }
    }

    private static Batch RandomBatch(int seed, int size = 64)
    {
        var rng = new Rng(seed);
        var b = new Batch(size, 3, 2);
        rng.FillUniform(b.Inputs, -1, 1);
        rng.FillUniform(b.NextInputs, -1, 1);
        rng.FillUniform(b.Actions, -0.9f, 0.9f);
        for (var i = 0; i < size; i++)
        {
            b.Rewards[i] = rng.NextFloat();
            b.Bootstrap[i] = 1;
        }
        return b;
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Update_NonFiniteBatch_SkipsAndLeavesWeightsUntouched(float bad)
    {
        var sac = new Sac(3, 2, Small());
        sac.Update(RandomBatch(1));
        var before = TestUtil.Flatten(sac.Parameters());
        var batch = RandomBatch(2);
        batch.Rewards[5] = bad;
        var m = sac.Update(batch);
        Assert.Equal(1, m["train/skipped_nonfinite"]);
        Assert.Equal(1, sac.SkippedUpdates);
        Assert.Contains("rewards[5]", sac.LastSkipReason);
        Assert.Equal(before, TestUtil.Flatten(sac.Parameters()));
        // The next clean batch trains normally.
        Assert.Equal(0, sac.Update(RandomBatch(3))["train/skipped_nonfinite"]);
    }

    [Fact]
    public void Update_CriticActorRatio_UpdatesActorEveryOtherStep()
    {
        var o = Small();
        o.CriticActorRatio = 2;
        var sac = new Sac(3, 2, o);
        for (var i = 0; i < 6; i++) sac.Update(RandomBatch(i));
        Assert.Equal(6, sac.Updates);
        Assert.Equal(3, sac.ActorUpdates);
    }

    [Fact]
    public void Update_ActorFrozen_LeavesActorUntouched()
    {
        var sac = new Sac(3, 2, Small()) { ActorFrozen = true };
        var before = TestUtil.Flatten(sac.Actor);
        for (var i = 0; i < 3; i++) sac.Update(RandomBatch(i));
        Assert.Equal(before, TestUtil.Flatten(sac.Actor));
        Assert.Equal(0, sac.ActorUpdates);
    }

    [Fact]
    public void SaveLoad_Resume_ContinuesBitForBit()
    {
        var dir = TestUtil.TempDir();
        var a = new Sac(3, 2, Small(7));
        for (var i = 0; i < 5; i++) a.Update(RandomBatch(i));
        a.Save(dir);
        for (var i = 5; i < 10; i++) a.Update(RandomBatch(i));

        var b = Sac.FromCheckpoint(dir, 3, 2);
        for (var i = 5; i < 10; i++) b.Update(RandomBatch(i));
        Assert.Equal(TestUtil.Flatten(a.Parameters()), TestUtil.Flatten(b.Parameters()));
        Assert.Equal(a.Updates, b.Updates);
    }

    [Fact]
    public void Load_DifferentArchitecture_ThrowsNamingTensor()
    {
        var dir = TestUtil.TempDir();
        new Sac(3, 2, Small()).Save(dir);
        var other = Small();
        other.Hidden = "16,32";
        var ex = Assert.Throws<SafeTensorsException>(() => new Sac(3, 2, other).Load(dir));
        Assert.Contains("actor.0.weight", ex.Message);
    }
}
