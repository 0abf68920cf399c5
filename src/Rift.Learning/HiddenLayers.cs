namespace Rift.Learning;

/// <summary>Parses hidden-layer specifications such as "256,256".</summary>
public static class HiddenLayers
{
    public static bool TryParse(string? spec, out int[] sizes)
    {
        sizes = [];
        if (string.IsNullOrWhiteSpace(spec)) return false;
        var parts = spec.Split(',', StringSplitOptions.TrimEntries);
        var list = new List<int>();
        foreach (var p in parts)
        {
            if (!int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n <= 0) return false;
            list.Add(n);
        }
        sizes = list.ToArray();
        return true;
    }

    public static int[] Parse(string spec) =>
        TryParse(spec, out var sizes) ? sizes : throw new ArgumentException($"Hidden layer sizes must be comma-separated positive integers, got '{spec}'.", nameof(spec));
}
