namespace Rift.Nn;

/// <summary>Error function family used by GELU and the probit Φ.</summary>
public static class SpecialFunctions
{
    public const double InvSqrt2 = 0.70710678118654752440;
    public const double InvSqrt2Pi = 0.39894228040143267794;

    /// <summary>
    /// Complementary error function; Chebyshev-fitted rational form (Numerical Recipes erfcc), fractional
    /// error below 1.2e-7 everywhere, so tails of Φ keep float32 relative accuracy.
    /// </summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double ans = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
            t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? ans : 2.0 - ans;
    }

    public static double Erf(double x) => 1.0 - Erfc(x);

    /// <summary>Standard normal CDF Φ(x).</summary>
    public static double NormalCdf(double x) => 0.5 * Erfc(-x * InvSqrt2);

    /// <summary>Standard normal density φ(x).</summary>
    public static double NormalPdf(double x) => InvSqrt2Pi * Math.Exp(-0.5 * x * x);
}
