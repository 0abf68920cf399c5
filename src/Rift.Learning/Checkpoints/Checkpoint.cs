using System.Text.Json;
using System.Text.Json.Serialization;
using Rift.Nn;

namespace Rift.Learning;

/// <summary>
/// Checkpoint helpers: options and small state as indented JSON, weights and optimiser moments as safetensors
/// (PyTorch can read both).
/// </summary>
public static class Checkpoint
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static void WriteJson<T>(string path, T value) => File.WriteAllText(path, JsonSerializer.Serialize(value, Json));

    public static T ReadJson<T>(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Checkpoint file '{path}' does not exist.", path);
        return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Json)
               ?? throw new InvalidDataException($"{path}: empty JSON.");
    }

    /// <summary>Adam moments as tensors named <c>{optimizer}.m.{i}</c>, <c>.v.{i}</c>, steps in the metadata.</summary>
    public static void SaveOptimizers(string path, IReadOnlyDictionary<string, Adam> optimizers)
    {
        var tensors = new List<(string, Tensor)>();
        var meta = new Dictionary<string, string>();
        foreach (var (name, adam) in optimizers)
        {
            var (m, v, steps, count) = adam.ExportState();
            for (var i = 0; i < m.Length; i++)
            {
                tensors.Add(($"{name}.m.{i}", Tensor.FromArray(m[i], m[i].Length)));
                tensors.Add(($"{name}.v.{i}", Tensor.FromArray(v[i], v[i].Length)));
            }
            meta[$"{name}.steps"] = string.Join(",", steps);
            meta[$"{name}.step_count"] = count.ToString();
        }
        SafeTensors.Save(path, tensors, meta);
    }

    public static void LoadOptimizers(string path, IReadOnlyDictionary<string, Adam> optimizers)
    {
        var loaded = SafeTensors.Load(path);
        var meta = SafeTensors.ReadMetadata(path);
        foreach (var (name, adam) in optimizers)
        {
            var n = adam.Parameters.Count;
            var m = new float[n][];
            var v = new float[n][];
            for (var i = 0; i < n; i++)
            {
                if (!loaded.TryGetValue($"{name}.m.{i}", out var mt) || !loaded.TryGetValue($"{name}.v.{i}", out var vt))
                    throw new SafeTensorsException($"{path}: optimizer tensor '{name}.m.{i}' is missing (optimizer has {n} parameters)");
                if (mt.Size != adam.Parameters[i].Size)
                    throw new SafeTensorsException($"{path}: optimizer tensor '{name}.m.{i}' has {mt.Size} values, parameter '{adam.Parameters[i].Name}' has {adam.Parameters[i].Size}");
                m[i] = mt.Span.ToArray();
                v[i] = vt.Span.ToArray();
            }
            var steps = meta.TryGetValue($"{name}.steps", out var s) && s.Length > 0 ? s.Split(',').Select(int.Parse).ToArray() : new int[n];
            var count = meta.TryGetValue($"{name}.step_count", out var c) ? int.Parse(c) : 0;
            adam.ImportState(m, v, steps, count);
        }
    }
}
