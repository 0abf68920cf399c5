namespace Rift.Learning;

/// <summary>Which weighted-BC baseline (DESIGN.md §6).</summary>
public enum WeightedBcMethod
{
    /// <summary>Plain BC on every transition.</summary>
    Plain = 0,

    /// <summary>HG-DAgger (Kelly et al. 2019): BC on human-controlled transitions only.</summary>
    HgDagger = 1,

    /// <summary>IWR (Mandlekar et al. 2020): interventions and non-interventions each get half the sampling mass.</summary>
    Iwr = 2,
}

/// <summary>Weighted behaviour cloning baselines over intervention data (fine-tune a policy with <see cref="BehaviorCloning"/>).</summary>
public static class WeightedBc
{
    /// <summary>Relative sampling weights of <paramref name="data"/> for <paramref name="method"/>.</summary>
    public static double[] Weights(IReadOnlyList<Transition> data, WeightedBcMethod method)
    {
        var w = new double[data.Count];
        int human = data.Count(t => t.Controller != Controller.Policy), robot = data.Count - human;
        for (var i = 0; i < data.Count; i++)
        {
            var isHuman = data[i].Controller != Controller.Policy;
            w[i] = method switch
            {
                WeightedBcMethod.Plain => 1.0,
                WeightedBcMethod.HgDagger => isHuman ? 1.0 : 0.0,
                WeightedBcMethod.Iwr => isHuman ? 0.5 / human : (human == 0 ? 1.0 / robot : 0.5 / robot),
                _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown weighted-BC method."),
            };
        }
        return w;
    }

    /// <summary>Fine-tunes <paramref name="policy"/> (e.g. a copy of the deployed policy) on <paramref name="data"/>.</summary>
    public static void Fit(TanhGaussianActor policy, IReadOnlyList<Transition> data, WeightedBcMethod method, BcOptions options, Action<int, double>? onStep = null) =>
        BehaviorCloning.Fit(policy, data, options, Weights(data, method), onStep);
}
