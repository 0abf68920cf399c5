using Rift.Agent.Bench;

namespace Rift.Agent.Tests.Bench;

public class StatsTests
{
    [Fact]
    public void MeanCi95_ThreeKnownValues_StudentTHalfWidth()
    {
        var m = Stats.MeanCi95([1.0, 2.0, 3.0]);
        Assert.Equal(2.0, m.Mean, 12);
        // s = 1, t(0.975, 2) = 4.303, half width = 4.303 / √3.
        Assert.Equal(4.303 / Math.Sqrt(3), m.HalfWidth, 9);
        Assert.Equal(3, m.N);
    }

    [Fact]
    public void MeanCi95_FiveValues_UsesFourDegreesOfFreedom()
    {
        var m = Stats.MeanCi95([0.2, 0.4, 0.4, 0.6, 0.9]);
        var mean = 0.5;
        var s = Math.Sqrt((0.09 + 0.01 + 0.01 + 0.01 + 0.16) / 4);
        Assert.Equal(mean, m.Mean, 12);
        Assert.Equal(2.776 * s / Math.Sqrt(5), m.HalfWidth, 9);
    }

    [Fact]
    public void MeanCi95_NaNAndSingleValue_NaNLeftOutAndNoInterval()
    {
        var m = Stats.MeanCi95([double.NaN, 0.7]);
        Assert.Equal(0.7, m.Mean, 12);
        Assert.Equal(1, m.N);
        Assert.True(double.IsNaN(m.HalfWidth));
        Assert.Equal("0.70", m.Format());
        Assert.Equal("–", Stats.MeanCi95([]).Format());
    }

    [Fact]
    public void TQuantile975_LargeDegreesOfFreedom_Normal()
    {
        Assert.Equal(12.706, Stats.TQuantile975(1), 3);
        Assert.Equal(1.96, Stats.TQuantile975(200), 3);
    }
}
