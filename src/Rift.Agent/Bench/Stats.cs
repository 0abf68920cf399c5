namespace Rift.Agent.Bench;

/// <summary>Mean and 95% confidence half-width over seeds (Student t, n − 1 degrees of freedom).</summary>
public readonly record struct MeanCi(double Mean, double HalfWidth, int N)
{
    /// <summary>"0.62 ± 0.08" (or "0.62" for a single value, "–" for none).</summary>
    public string Format(string format = "0.00") =>
        N == 0 || double.IsNaN(Mean) ? "–"
        : N == 1 || double.IsNaN(HalfWidth) ? Mean.ToString(format, System.Globalization.CultureInfo.InvariantCulture)
        : $"{Mean.ToString(format, System.Globalization.CultureInfo.InvariantCulture)} ± {HalfWidth.ToString(format, System.Globalization.CultureInfo.InvariantCulture)}";
}

public static class Stats
{
    // Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom.
    private static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>t_{0.975, df}; 1.96 beyond 30 degrees of freedom.</summary>
    public static double TQuantile975(int df) => df < 1 ? double.NaN : df <= 30 ? T975[df - 1] : 1.96;

    /// <summary>Mean ± t_{0.975, n−1}·s/√n of the finite values (NaN values are left out).</summary>
    public static MeanCi MeanCi95(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return new MeanCi(double.NaN, double.NaN, 0);
        var mean = v.Average();
        if (v.Length == 1) return new MeanCi(mean, double.NaN, 1);
        var s = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return new MeanCi(mean, TQuantile975(v.Length - 1) * s / Math.Sqrt(v.Length), v.Length);
    }
}
