using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Rift.Agent.Cli;

/// <summary>
/// Every component's options class (public, named <c>*Options</c>, in a <c>Rift.*</c> assembly) bound from the
/// configuration section named after the class without the suffix (<c>SacOptions</c> ← <c>Sac:</c>).
/// Unknown keys and invalid values fail at start naming the key.
/// </summary>
public sealed class OptionsCatalog
{
    private readonly IConfiguration _configuration;
    private readonly Dictionary<string, Type> _types;
    private readonly Dictionary<Type, object> _bound = [];

    public OptionsCatalog(IConfiguration configuration)
    {
        _configuration = configuration;
        _types = DiscoverTypes().ToDictionary(t => SectionName(t), StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyDictionary<string, Type> Types => _types;

    public static string SectionName(Type t) => t.Name[..^"Options".Length];

    public static IEnumerable<Type> DiscoverTypes()
    {
        var here = typeof(OptionsCatalog).Assembly;
        var assemblies = new List<Assembly> { here };
        foreach (var name in here.GetReferencedAssemblies().Where(a => a.Name!.StartsWith("Rift.", StringComparison.Ordinal)))
            assemblies.Add(Assembly.Load(name));
        return assemblies.Distinct()
            .SelectMany(a => a.GetExportedTypes())
            .Where(t => t.IsClass && !t.IsAbstract && !t.IsGenericType && t.Name.EndsWith("Options", StringComparison.Ordinal)
                        && t.Name.Length > "Options".Length && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Checks that each overridden key names an existing option property.</summary>
    public void CheckKeys(IEnumerable<string> keys)
    {
        foreach (var key in keys)
        {
            var parts = key.Split(':');
            if (parts[0].Equals("Logging", StringComparison.OrdinalIgnoreCase)) continue;
            if (!_types.TryGetValue(parts[0], out var type))
                throw new ConfigurationKeyException(key, $"names no component; known sections: {string.Join(", ", _types.Keys.Order())}");
            if (parts.Length < 2)
                throw new ConfigurationKeyException(key, "names a section, not an option");
            var prop = type.GetProperty(parts[1], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (prop is null || !prop.CanWrite)
                throw new ConfigurationKeyException(key, $"is not an option of {type.Name}; options: {string.Join(", ", type.GetProperties().Where(p => p.CanWrite).Select(p => p.Name))}");
        }
    }

    public T Get<T>() where T : class, new() => (T)Get(typeof(T));

    public object Get(Type type)
    {
        if (_bound.TryGetValue(type, out var cached)) return cached;
        var section = SectionName(type);
        var instance = Activator.CreateInstance(type)!;
        try
        {
            _configuration.GetSection(section).Bind(instance, o => o.ErrorOnUnknownConfiguration = false);
        }
        catch (InvalidOperationException e)
        {
            var key = FindBadKey(section, type) ?? section;
            throw new ConfigurationKeyException(key, $"has an invalid value: {e.InnerException?.Message ?? e.Message}");
        }
        Validate(section, instance);
        _bound[type] = instance;
        return instance;
    }

    /// <summary>Binds and validates every known options class.</summary>
    public void ValidateAll()
    {
        foreach (var t in _types.Values) Get(t);
    }

    private static void Validate(string section, object instance)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(instance, new ValidationContext(instance), results, validateAllProperties: true)) return;
        var first = results[0];
        var member = first.MemberNames.FirstOrDefault() ?? "";
        throw new ConfigurationKeyException($"{section}:{member}", $"is invalid: {first.ErrorMessage}");
    }

    private string? FindBadKey(string section, Type type)
    {
        foreach (var child in _configuration.GetSection(section).GetChildren())
        {
            var prop = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (prop is null || child.Value is null) continue;
            var target = Nullable.GetUnderlyingType(prop.PropertyType) ?? prop.PropertyType;
            try
            {
                if (target.IsEnum) Enum.Parse(target, child.Value, ignoreCase: true);
                else if (target != typeof(string)) Convert.ChangeType(child.Value, target, CultureInfo.InvariantCulture);
            }
            catch (Exception)
            {
                return child.Path;
            }
        }
        return null;
    }
}
