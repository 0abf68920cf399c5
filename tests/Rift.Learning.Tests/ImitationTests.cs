using Rift.Nn;

namespace Rift.Learning.Tests;

public class ImitationTests
{
    [Fact]
    public void BehaviorCloning_LinearExpert_FitsMode()
    {
        var rng = new Rng(1);
        var data = Enumerable.Range(0, 500).Select(_ =>
        {
            var x = rng.Uniform(-1, 1);
            return new Transition { Input = [x], Action = [0.5f * x], NextInput = [x], Controller = Controller.Human };
        }).ToList();
        var actor = BehaviorCloning.Train(data, 1, 1, new BcOptions { Hidden = "32,32", Steps = 400, BatchSize = 64 });
        var a = new float[1];
        actor.Mode([0.6f], a);
        Assert.InRange(a[0], 0.25f, 0.35f);
    }

    [Fact]
    public void BehaviorCloning_GaussianNll_KeepsDemonstratorSpread()
    {
        // Pre-tanh actions u = 0.5x + N(0, 0.3²): the NLL clone must recover both the mode and σ ≈ 0.3.
        var rng = new Rng(5);
        var data = Enumerable.Range(0, 2000).Select(_ =>
        {
            var x = rng.Uniform(-1, 1);
            return new Transition { Input = [x], Action = [MathF.Tanh(0.5f * x + 0.3f * (float)rng.NextNormal())], NextInput = [x], Controller = Controller.Human };
        }).ToList();
        var actor = BehaviorCloning.Train(data, 1, 1, new BcOptions { Hidden = "32,32", Steps = 600, BatchSize = 128, Loss = BcLoss.GaussianNll });
        var g = new Graph();
        var x0 = new Tensor([1, 1]);
        x0.Span[0] = 0.6f;
        var (mu, logStd) = actor.Forward(g, x0);
        Assert.InRange(mu.Span[0], 0.2f, 0.4f);
        Assert.InRange(MathF.Exp(logStd.Span[0]), 0.22f, 0.38f);
    }

    [Fact]
    public void BehaviorCloning_GaussianNll_DiffersFromModeLoss()
    {
        var data = Enumerable.Range(0, 50).Select(i => TestUtil.T(i / 50f, 0.3f, c: Controller.Human)).ToList();
        var o = new BcOptions { Hidden = "8", Steps = 5, BatchSize = 8 };
        var mode = TestUtil.Flatten(BehaviorCloning.Train(data, 1, 1, o));
        o.Loss = BcLoss.GaussianNll;
        Assert.NotEqual(mode, TestUtil.Flatten(BehaviorCloning.Train(data, 1, 1, o)));
    }

    [Fact]
    public void Weights_HgDaggerAndIwr_FollowTheirRules()
    {
        var data = new List<Transition>
        {
            TestUtil.T(0, 0), TestUtil.T(0, 0), TestUtil.T(0, 0), TestUtil.T(0, 0, c: Controller.Human),
        };
        Assert.Equal([0.0, 0.0, 0.0, 1.0], WeightedBc.Weights(data, WeightedBcMethod.HgDagger));
        var iwr = WeightedBc.Weights(data, WeightedBcMethod.Iwr);
        Assert.Equal(0.5, iwr[3], 9);
        Assert.Equal(0.5, iwr.Take(3).Sum(), 9);
    }

    [Fact]
    public void HgDagger_OnlyHumanActions_AreCloned()
    {
        var rng = new Rng(2);
        var data = Enumerable.Range(0, 300).Select(i =>
        {
            var human = i % 3 == 0;
            return new Transition { Input = [rng.Uniform(-1, 1)], Action = [human ? 0.6f : -0.6f], NextInput = [0], Controller = human ? Controller.Human : Controller.Policy };
        }).ToList();
        var actor = new TanhGaussianActor(1, 1, [16], new Rng(3));
        WeightedBc.Fit(actor, data, WeightedBcMethod.HgDagger, new BcOptions { Steps = 300, BatchSize = 32 });
        var a = new float[1];
        actor.Mode([0f], a);
        Assert.InRange(a[0], 0.5f, 0.7f);
    }

    [Fact]
    public void RecoveryTrainer_HindsightGoals_DrivesTowardGivenGoal()
    {
        // 1-D point: segments move with constant action toward where they end; the reached position is the goal embedding.
        var rng = new Rng(4);
        var segments = new List<InterventionSegment>();
        for (var s = 0; s < 60; s++)
        {
            var x = rng.Uniform(-1, 1);
            var dir = rng.NextDouble() < 0.5 ? -1f : 1f;
            var inputs = new List<float[]>(); var actions = new List<float[]>(); var reached = new List<float[]>();
            for (var t = 0; t < 8; t++)
            {
                inputs.Add([x]);
                actions.Add([dir * 0.8f]);
                x += 0.1f * dir;
                reached.Add([x]);
            }
            segments.Add(new InterventionSegment(inputs.ToArray(), actions.ToArray(), reached.ToArray()));
        }
        var policy = RecoveryTrainer.Train(segments, 1, 1, 1, new RecoveryPolicyOptions { Hidden = "32,32", Steps = 600, BatchSize = 64 });
        var a = new float[1];
        policy.Act([0f], [0.6f], a);
        Assert.True(a[0] > 0.3f, $"toward +0.6 the action is {a[0]}");
        policy.Act([0f], [-0.6f], a);
        Assert.True(a[0] < -0.3f, $"toward −0.6 the action is {a[0]}");
    }

    [Fact]
    public void GoalConditionedPolicy_Chunk_ActReturnsFirstActionOfChunk()
    {
        var policy = new GoalConditionedPolicy(3, 2, 2, [8], new Rng(1), chunkSize: 4);
        var chunk = new float[8];
        var a = new float[2];
        policy.ActChunk([0.1f, -0.2f, 0.3f], [0.5f, 0.5f], chunk);
        policy.Act([0.1f, -0.2f, 0.3f], [0.5f, 0.5f], a);
        Assert.Equal(chunk[..2], a);
        Assert.Throws<ArgumentException>(() => policy.ActChunk([0.1f, -0.2f, 0.3f], [0.5f, 0.5f], new float[6]));
    }

    [Fact]
    public void RecoveryTrainer_GoalDropout_NullGoalGivesTakeoverAction()
    {
        // Takeovers always act +0.7, demonstrations −0.7 (both toward their hindsight goals): with the null goal the policy
        // returns the mix set by InterventionWeight; all-takeover weight gives the takeover action, with a chunk of 3.
        var rng = new Rng(5);
        var segments = new List<InterventionSegment>();
        for (var s = 0; s < 40; s++)
        {
            var take = s % 2 == 0;
            var inputs = Enumerable.Range(0, 6).Select(_ => new[] { rng.Uniform(-1, 1) }).ToArray();
            var actions = inputs.Select(_ => new[] { take ? 0.7f : -0.7f }).ToArray();
            segments.Add(new InterventionSegment(inputs, actions, inputs) { Intervention = take });
        }
        var policy = RecoveryTrainer.Train(segments, 1, 1, 1, new RecoveryPolicyOptions { Hidden = "16", Steps = 400, BatchSize = 32, ChunkSize = 3, GoalDropout = 1, InterventionWeight = 1 });
        var a = new float[1];
        policy.Act([0.2f], [0f], a);
        Assert.InRange(a[0], 0.55f, 0.85f);
        Assert.Equal(3, policy.ChunkSize);
    }

    [Fact]
    public void InterventionSegment_FromEpisode_SplitsNonPolicyRuns()
    {
        var ep = new EpisodeRecord { Task = "toy" };
        foreach (var c in new[] { Controller.Policy, Controller.Human, Controller.Human, Controller.Policy, Controller.Agent })
            ep.Transitions.Add(TestUtil.T(0, 0, x2: (float)c, c: c));
        var segs = InterventionSegment.FromEpisode(ep, t => t.NextInput);
        Assert.Equal([2, 1], segs.Select(s => s.Length));
    }
}
