using Rift.Nn;
using static Rift.Learning.Tests.TestUtil;

namespace Rift.Learning.Tests;

public class ReplayTests
{
    [Fact]
    public void MixedReplay_WithHumanTransitions_SamplesHalfFromInterventionBuffer()
    {
        var replay = new MixedReplay(new ReplayOptions { OnlineCapacity = 10_000, InterventionCapacity = 1000 }, 1, 1);
        for (var i = 0; i < 1000; i++) replay.Add(T(i, 0));
        for (var i = 0; i < 10; i++) replay.Add(T(-i, 1, c: Controller.Human));
        Assert.Equal(1010, replay.Online.Count);
        Assert.Equal(10, replay.Interventions.Count);
        var batch = new Batch(256, 1, 1);
        replay.Sample(batch, new Rng(1));
        Assert.Equal(128, (int)batch.Human.Skip(128).Sum());
        // The online half holds human steps only at their natural rate (10 of 1010).
        Assert.True(batch.Human.Take(128).Sum() <= 6);
    }

    [Fact]
    public void MixedReplay_EmptyInterventionBuffer_SamplesAllOnline()
    {
        var replay = new MixedReplay(new ReplayOptions(), 1, 1);
        for (var i = 0; i < 50; i++) replay.Add(T(i, 0));
        var batch = new Batch(64, 1, 1);
        replay.Sample(batch, new Rng(2));
        Assert.All(batch.Inputs, x => Assert.InRange(x, 0, 49));
    }

    [Fact]
    public void ReplayBuffer_OverCapacity_KeepsNewest()
    {
        var b = new ReplayBuffer(5, 1, 1);
        for (var i = 0; i < 8; i++) b.Add(T(i, 0));
        Assert.Equal(5, b.Count);
        Assert.Equal(8, b.Added);
        var xs = Enumerable.Range(0, 5).Select(i => b.Get(i).Input[0]).OrderBy(x => x).ToArray();
        Assert.Equal([3f, 4f, 5f, 6f, 7f], xs);
    }

    [Fact]
    public void ReplayBuffer_SaveLoad_RoundTripsEveryField()
    {
        var b = new ReplayBuffer(4, 1, 1);
        b.Add(T(1, 0.5f, 1, 2, term: true));
        b.Add(new Transition { Input = [3], Action = [-0.5f], Reward = -1, NextInput = [4], Truncated = true, Intervention = true, Kind = InterventionKind.HumanEStop, Controller = Controller.Agent });
        var path = Path.Combine(TempDir(), "b.replay");
        b.Save(path);
        var c = ReplayBuffer.Load(path);
        Assert.Equal(2, c.Count);
        var t = c.Get(1);
        Assert.Equal((3f, -0.5f, -1f, 4f), (t.Input[0], t.Action[0], t.Reward, t.NextInput[0]));
        Assert.True(t.Truncated && t.Intervention && !t.Terminated);
        Assert.Equal(InterventionKind.HumanEStop, t.Kind);
        Assert.Equal(Controller.Agent, t.Controller);
        Assert.True(c.Get(0).Terminated);
    }

    [Fact]
    public void ReplayBuffer_WrongActionSize_ThrowsNamingSizes()
    {
        var b = new ReplayBuffer(4, 1, 2);
        var ex = Assert.Throws<ArgumentException>(() => b.Add(T(1, 0.5f)));
        Assert.Contains("1 values", ex.Message);
    }
}
