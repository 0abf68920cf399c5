using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Rift.Agent.Cli;

/// <summary>
/// Builds the generic host for a command: configuration from appsettings.json, <c>RIFT_</c> environment
/// variables and command-line keys (in that order of precedence, last wins), console logging, and every
/// component's options bound and validated at start.
/// </summary>
public static class RiftHost
{
    /// <summary>Configuration keys given on the command line for this process.</summary>
    public static IReadOnlyDictionary<string, string?> CommandLineOverrides { get; set; } = new Dictionary<string, string?>();

    public static HostApplicationBuilder CreateBuilder(IDictionary<string, string?>? extra = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            DisableDefaults = true,
        });
        builder.Configuration.AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true);
        builder.Configuration.AddEnvironmentVariables("RIFT_");
        if (extra is not null) builder.Configuration.AddInMemoryCollection(extra);
        builder.Configuration.AddInMemoryCollection(CommandLineOverrides);
        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);

        var catalog = new OptionsCatalog(builder.Configuration);
        catalog.CheckKeys(CommandLineOverrides.Keys);
        catalog.ValidateAll();
        builder.Services.AddSingleton(catalog);
        foreach (var type in catalog.Types.Values)
            builder.Services.AddSingleton(type, _ => catalog.Get(type));
        return builder;
    }

    /// <summary>A built host for commands that run to completion (no hosted services started).</summary>
    public static IHost Build(IDictionary<string, string?>? extra = null) => CreateBuilder(extra).Build();

    public static T Options<T>(this IHost host) where T : class, new() => host.Services.GetRequiredService<OptionsCatalog>().Get<T>();

    public static ILogger Logger(this IHost host, string category) => host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(category);
}
