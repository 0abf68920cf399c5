namespace Rift.Agent.Cli;

/// <summary>
/// Splits configuration-key arguments (<c>--Sac:Tau=0.01</c> or <c>--Sac:Tau 0.01</c>) from the arguments
/// System.CommandLine parses. A key is recognised by the colon in its name.
/// </summary>
public static class ConfigOverrides
{
    public static (string[] Remaining, Dictionary<string, string?> Overrides) Split(IReadOnlyList<string> args)
    {
        var rest = new List<string>();
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                rest.AddRange(args.Skip(i));
                break;
            }
            if (!a.StartsWith("--", StringComparison.Ordinal) || !a.Contains(':'))
            {
                rest.Add(a);
                continue;
            }
            var body = a[2..];
            var eq = body.IndexOf('=');
            if (eq >= 0)
                overrides[body[..eq]] = body[(eq + 1)..];
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                overrides[body] = args[++i];
            else
                throw new ConfigurationKeyException(body, "has no value (use --Section:Key=value)");
        }
        return (rest.ToArray(), overrides);
    }
}

/// <summary>A configuration key that is unknown or has an invalid value.</summary>
public sealed class ConfigurationKeyException(string key, string problem)
    : Exception($"Configuration key '{key}' {problem}.")
{
    public string Key { get; } = key;
}
