using Rift.Nn;

namespace Rift.Learning.Tests;

public class ResidualSacTests
{
    private const float PriorMode = 0.3f, Threshold = 0.28f;

    private static TanhGaussianActor Prior()
    {
        var prior = new TanhGaussianActor(1, 1, [32, 32], new Rng(5));
        TestUtil.SetConstantHead(prior, [MathF.Atanh(PriorMode)], [MathF.Log(0.05f)]);
        return prior;
    }

    /// <summary>
    /// Zero residual reward; the supervisor stops every action above <see cref="Threshold"/> (most of the
    /// prior's samples); states are i.i.d. in [-1, 1]. Returns the mean shift of the mode from the prior's and the
    /// KL under RIFT's Gaussian-around-mode approximation, Δ²/(2σ²).
    /// </summary>
    private static (double Shift, double Kl) FineTune(bool asTermination)
    {
        var prior = Prior();
        var sac = new SacOptions
        {
            Hidden = "32,32", BatchSize = 64, Gamma = 0.95, ActorLearningRate = 3e-3, CriticLearningRate = 3e-3,
            AutoTemperature = false, InitialTemperature = 1e-3, Seed = 1,
        };
        var rift = new RiftOptions { Omega = 0.05, InterventionPenalty = 0, InterventionAsTermination = asTermination, ActorFreezeSteps = 200 };
        var learner = new ResidualSac(prior, sac, rift, 4000);
        var rng = new Rng(9);
        var sys = new Random(9);
        var a = new float[1];
        for (var i = 0; i < 2000; i++)
        {
            var x = rng.Uniform(-1, 1);
            prior.Act([x], a, false, sys);
            var e = a[0] > Threshold;
            learner.Observe(new Transition { Input = [x], Action = [a[0]], NextInput = [rng.Uniform(-1, 1)], Intervention = e, Truncated = e });
        }
        for (var i = 0; i < 1500; i++) learner.Update();
        double shift = 0;
        for (var k = 0; k < 21; k++)
        {
            learner.Act([-1 + 0.1f * k], a, true, sys);
            shift += a[0] - PriorMode;
        }
        shift /= 21;
        return (shift, shift * shift / (2 * 0.05 * 0.05));
    }

    [Fact]
    public void Update_ZeroResidualRewardWithTruncation_StaysNearPrior()
    {
        var (shift, kl) = FineTune(asTermination: false);
        Assert.True(kl < 0.1, $"mode moved by {shift:F4} (KL {kl:F3}) with truncation");

    }

    [Fact]
    public void Update_ZeroResidualRewardWithTermination_MovesAwayToAvoidInterventions()
    {
        var (shift, kl) = FineTune(asTermination: true);
        // The survival bonus ω·C > 0 is forfeited by a terminating intervention: the policy learns to avoid them.
        Assert.True(shift < -0.03 && kl > 0.25, $"mode moved by {shift:F4} (KL {kl:F3}) with termination");
    }

    [Fact]
    public void ApplyRewards_InterventionRules_FollowRiftConventions()
    {
        var b = new Batch(3, 1, 1);
        b.Interventions[0] = 1; b.Truncated[0] = 1;
        b.Terminated[1] = 1; b.TaskRewards[1] = 1;
        ResidualSac.ApplyRewards(b, new RiftOptions { TaskRewardWeight = 0.5 });
        Assert.Equal([-1f, 0.5f, 0f], b.Rewards);
        Assert.Equal([1f, 0f, 1f], b.Bootstrap);
        ResidualSac.ApplyRewards(b, new RiftOptions { InterventionAsTermination = true, InterventionPenalty = 0 });
        Assert.Equal([0f, 0f, 1f], b.Bootstrap);
        Assert.Equal([0f, 0f, 0f], b.Rewards);
    }

    [Fact]
    public void GaussianModePrior_LogProb_MatchesClosedForm()
    {
        var prior = Prior();
        var p = new GaussianModePrior(prior, omega: 2.0, sigma: 0.05, includeNormaliser: true);
        var g = new Graph(gradEnabled: false);
        var lp = p.LogProb(g, Tensor.FromArray([0.2f], 1, 1), Tensor.FromArray([0.4f], 1, 1)).Item();
        var expected = 2.0 * (-(0.1 * 0.1) / (2 * 0.0025) - 0.5 * Math.Log(2 * Math.PI * 0.0025));
        Assert.Equal(expected, lp, 3);
    }

    [Fact]
    public void SaveLoad_ResidualSacResume_ContinuesBitForBit()
    {
        var dir = TestUtil.TempDir();
        ResidualSac Make() => new(Prior(), new SacOptions { Hidden = "32,32", BatchSize = 32, Seed = 4 }, new RiftOptions { ActorFreezeSteps = 3 }, 100);
        var a = Make();
        var rng = new Rng(1);
        for (var i = 0; i < 80; i++)
        {
            var e = rng.NextDouble() < 0.2;
            a.Observe(new Transition { Input = [rng.Uniform(-1, 1)], Action = [rng.Uniform(-1, 1)], NextInput = [rng.Uniform(-1, 1)], Intervention = e, Truncated = e });
        }
        for (var i = 0; i < 5; i++) a.Update();
        a.Save(dir);
        for (var i = 0; i < 5; i++) a.Update();
        var b = Make();
        b.Load(dir);
        for (var i = 0; i < 5; i++) b.Update();
        Assert.Equal(TestUtil.Flatten(a.Sac.Parameters()), TestUtil.Flatten(b.Sac.Parameters()));
    }
}
