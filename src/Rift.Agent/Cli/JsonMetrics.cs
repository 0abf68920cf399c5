using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rift.Agent.Cli;

/// <summary>Machine-readable results: <c>{"metrics": {...}, ...extra}</c>, keys grouped with slashes.</summary>
public static class JsonMetrics
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Write(string path, IReadOnlyDictionary<string, double> metrics, IReadOnlyDictionary<string, JsonNode?>? extra = null)
    {
        var metricsNode = new JsonObject();
        foreach (var (k, v) in metrics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            metricsNode[k] = double.IsFinite(v) ? JsonValue.Create(v) : null;
        var root = new JsonObject { ["metrics"] = metricsNode };
        if (extra is not null)
            foreach (var (k, v) in extra) root[k] = v?.DeepClone();
        var text = root.ToJsonString(Indented);
        if (path == "-")
        {
            Console.Out.WriteLine(text);
            return;
        }
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp";
        File.WriteAllText(tmp, text + "\n");
        File.Move(tmp, full, overwrite: true);
    }
}
