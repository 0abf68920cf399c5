using Rift.Nn;

namespace Rift.Learning.Tests;

public class MileTests
{
    private static double Phi(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    private static double Erf(double x)
    {
        // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
        var t = 1 / (1 + 0.3275911 * Math.Abs(x));
        var y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return x >= 0 ? y : -y;
    }

    /// <summary>
    /// 1-D, π_θ = N(0, 1), π̂ = N(1, 1) (pre-tanh), σ_cdf → 0: the probit becomes a step, so
    /// p = P(−½ε² + ½(Δ² + σ_ξ²)/σ_θ² − c > 0) = P(ε² &lt; 2 − 2c) = 2Φ(√(2 − 2c)) − 1.
    /// </summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(0.0)]
    [InlineData(0.9)]
    public void InterventionProbability_StepProbit_MatchesClosedForm(double c)
    {
        var mile = new Mile(1, 1, new MileOptions { Hidden = "8", Samples = 20000, Cost = c, SigmaCdf = 1e-6 });
        TestUtil.SetConstantHead(mile.Policy, [0f], [0f]);
        TestUtil.SetConstantHead(mile.MentalModel, [1f], [0f]);
        var p = mile.InterventionProbability([0.3f, -0.7f], 2, seed: 3);
        var expected = 2 * Phi(Math.Sqrt(2 - 2 * c)) - 1;
        Assert.All(p, v => Assert.InRange(v, expected - 0.02, expected + 0.02));
    }

    [Fact]
    public void InterventionProbability_MentalModelEqualsPolicyAndHighCost_IsSmall()
    {
        var mile = new Mile(1, 1, new MileOptions { Hidden = "8", Samples = 2000, Cost = 5, SigmaCdf = 1 });
        TestUtil.SetConstantHead(mile.Policy, [0.2f], [-1f]);
        TestUtil.SetConstantHead(mile.MentalModel, [0.2f], [-1f]);
        Assert.All(mile.InterventionProbability([0f], 1), v => Assert.True(v < 0.01, $"p = {v}"));
    }

    [Fact]
    public void Train_InterventionData_LearnsWhereHumansIntervene()
    {
        // Humans take over (action −0.5) for x > 0; the robot acts (0.5) elsewhere.
        var rng = new Rng(2);
        var data = new List<Transition>();
        for (var i = 0; i < 400; i++)
        {
            var x = rng.Uniform(-1, 1);
            data.Add(new Transition { Input = [x], Action = [x > 0 ? -0.5f : 0.5f], NextInput = [x], Controller = x > 0 ? Controller.Human : Controller.Policy });
        }
        var mile = new Mile(1, 1, new MileOptions { Hidden = "32,32", Samples = 64, Cost = 1, SigmaCdf = 2, Steps = 400, BatchSize = 64, LearningRate = 3e-3 });
        mile.Train(data);
        var p = mile.InterventionProbability([-0.8f, 0.8f], 2, seed: 1);
        Assert.True(p[1] > p[0] + 0.2, $"p(ν|x=-0.8) = {p[0]:F3}, p(ν|x=0.8) = {p[1]:F3}");
        var a = new float[1];
        mile.Act([0.8f], a, true, new Random(0));
        Assert.True(a[0] < 0, $"policy action at x = 0.8 is {a[0]}, the human's is −0.5");
    }
}
