using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rift.Agent;

/// <summary>
/// The one JSON convention of Rift's files and wire messages (event logs, the robot bridge, run folders): snake_case
/// property names and enum values, nulls omitted, NaN/±Infinity as the strings "NaN"/"Infinity"/"-Infinity".
/// Enum values are written snake_case and read in any case with '_' or '-' separators (older run folders wrote
/// kebab-case); integers are never accepted for enums.
/// </summary>
public static class RiftJson
{
    public static readonly JsonSerializerOptions SnakeCase = Freeze(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new SnakeCaseEnumConverter() },
    });

    /// <summary><see cref="SnakeCase"/>, indented (config and result files meant for people).</summary>
    public static readonly JsonSerializerOptions SnakeCaseIndented = Freeze(new JsonSerializerOptions(SnakeCase) { WriteIndented = true });

    private static readonly JsonSerializerOptions CopyOptions = Freeze(new JsonSerializerOptions
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    });

    /// <summary>
    /// A deep copy of an options object (or any plain settings graph) through a JSON round trip: options instances
    /// are shared by the host and must never be mutated, so every per-run or per-session variant starts from a copy.
    /// </summary>
    public static T Copy<T>(T value) where T : class =>
        JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value, CopyOptions), CopyOptions)!;

    private static JsonSerializerOptions Freeze(JsonSerializerOptions o)
    {
        o.TypeInfoResolver ??= new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver();
        o.MakeReadOnly();
        return o;
    }
}

/// <summary>Enums as snake_case strings (flags as "a, b"); reads snake_case, kebab-case or PascalCase names.</summary>
public sealed class SnakeCaseEnumConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert))!;

    private sealed class Converter<T> : JsonConverter<T> where T : struct, Enum
    {
        private static readonly bool Flags = typeof(T).IsDefined(typeof(FlagsAttribute), false);
        private static readonly (T Value, ulong Bits, string Name)[] Names =
            Enum.GetValues<T>().Select(v => (v, Bits(v), JsonNamingPolicy.SnakeCaseLower.ConvertName(v.ToString()))).ToArray();
        private static readonly Dictionary<string, T> ByKey = Names.GroupBy(n => Key(n.Name)).ToDictionary(g => g.Key, g => g.First().Value);
        private static readonly ConcurrentDictionary<T, string> Written = new();

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.String)
                throw new JsonException($"{typeof(T).Name} must be a string (one of {string.Join(", ", Names.Select(n => n.Name))}), got {reader.TokenType}.");
            var text = reader.GetString()!;
            var parts = Flags ? text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [text.Trim()];
            ulong bits = 0;
            foreach (var p in parts)
            {
                if (!ByKey.TryGetValue(Key(p), out var v)) throw Unknown(p);
                bits |= Bits(v);
            }
            return (T)Enum.ToObject(typeof(T), bits);
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Written.GetOrAdd(value, Name));

        private static string Name(T value)
        {
            foreach (var n in Names)
                if (EqualityComparer<T>.Default.Equals(n.Value, value)) return n.Name;
            var bits = Bits(value);
            if (Flags)
            {
                var parts = Names.Where(n => n.Bits != 0 && (n.Bits & (n.Bits - 1)) == 0 && (bits & n.Bits) == n.Bits).ToList();
                if (parts.Aggregate(0UL, (a, n) => a | n.Bits) == bits) return string.Join(", ", parts.Select(n => n.Name));
            }
            throw new JsonException($"{typeof(T).Name} value {value} has no name.");
        }

        private static JsonException Unknown(string name) =>
            new($"'{name}' is not a {typeof(T).Name}; known: {string.Join(", ", Names.Select(n => n.Name))}.");

        private static string Key(string name) => name.Replace("_", "").Replace("-", "").ToLowerInvariant();

        private static ulong Bits(T value) => Type.GetTypeCode(typeof(T)) == TypeCode.UInt64
            ? Convert.ToUInt64(value, System.Globalization.CultureInfo.InvariantCulture)
            : unchecked((ulong)Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
    }
}
