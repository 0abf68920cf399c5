using System.CommandLine;
using System.CommandLine.Help;
using Rift.Agent.Cli;

namespace Rift.Agent;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        string[] rest;
        try
        {
            (rest, var overrides) = ConfigOverrides.Split(args);
            RiftHost.CommandLineOverrides = overrides;
        }
        catch (ConfigurationKeyException e)
        {
            await Console.Error.WriteLineAsync($"rift: {e.Message}");
            return ExitCodes.Usage;
        }

        var root = BuildRoot();
        var parse = root.Parse(rest);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) await Console.Error.WriteLineAsync($"rift: {error.Message}");
            await Console.Error.WriteLineAsync();
            new HelpAction().Invoke(root.Parse([.. CommandPath(parse.CommandResult.Command), "--help"]));
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (ConfigurationKeyException e)
        {
            await Console.Error.WriteLineAsync($"rift: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("rift: cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (e is RiftUserException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or Rift.Sim.Interop.MujocoException)
        {
            await Console.Error.WriteLineAsync($"rift: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "Rift: unattended robot RL with agentic intervention. Configuration keys of every component can be set as --Section:Key=value (see 'rift config').");
        var tree = new CliTree(root);
        foreach (var provider in CliTree.DiscoverProviders()) provider.Register(tree);
        return root;
    }

    private static IEnumerable<string> CommandPath(Command command)
    {
        var path = new List<string>();
        for (Command? c = command; c is not null && c is not RootCommand; c = c.Parents.OfType<Command>().FirstOrDefault())
            path.Insert(0, c.Name);
        return path;
    }
}

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Cancelled = 130;
}

/// <summary>An error caused by the user's input; printed without a stack trace.</summary>
public sealed class RiftUserException(string message) : Exception(message);
