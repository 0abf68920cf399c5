using System.CommandLine;
using System.Reflection;
using Rift.Agent.Cli;
using Spectre.Console;

namespace Rift.Agent.Commands;

/// <summary><c>rift config</c>: every component's options with their effective values.</summary>
public sealed class ConfigCommands : ICommandProvider
{
    public void Register(CliTree tree)
    {
        var section = new Option<string?>("--section") { Description = "Show only this section (e.g. Sac)." };
        var config = new Command("config", "List every configuration key with its effective value (after appsettings.json, RIFT_ variables and --Section:Key=value).")
        {
            section,
        };
        config.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            var catalog = host.Services.GetService(typeof(OptionsCatalog)) as OptionsCatalog ?? throw new InvalidOperationException("options catalog missing");
            var table = new Table().AddColumns("key", "value", "type");
            var only = parse.GetValue(section);
            foreach (var (name, type) in catalog.Types.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (only is not null && !name.Equals(only, StringComparison.OrdinalIgnoreCase)) continue;
                var instance = catalog.Get(type);
                foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
                    table.AddRow(Markup.Escape($"{name}:{p.Name}"), Markup.Escape(Format(p.GetValue(instance))), Markup.Escape(p.PropertyType.Name));
            }
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        tree.Root.Subcommands.Add(config);
    }

    private static string Format(object? value) => value switch
    {
        null => "",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        System.Collections.IEnumerable e and not string => "[" + string.Join(", ", e.Cast<object?>().Select(Format)) + "]",
        _ => value.ToString() ?? "",
    };
}
