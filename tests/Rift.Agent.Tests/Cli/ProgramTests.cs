using Spectre.Console;

namespace Rift.Agent.Tests.Cli;

[Collection("Console")]
public class ProgramTests
{
    [Fact]
    public async Task Main_UnknownSubcommand_ExitsWithUsageCode()
    {
        var (code, _, err) = await Run("no-such-command");
        Assert.Equal(2, code);
        Assert.Contains("no-such-command", err);
    }

    [Fact]
    public async Task Main_UnknownOption_ExitsWithUsageCode()
    {
        var (code, _, _) = await Run("config", "--no-such-option");
        Assert.Equal(2, code);
    }

    [Fact]
    public async Task Main_UnknownConfigurationSection_ExitsWithUsageCodeNamingKey()
    {
        var (code, _, err) = await Run("config", "--NoSuchSection:Foo=1");
        Assert.Equal(2, code);
        Assert.Contains("NoSuchSection:Foo", err);
    }

    [Fact]
    public async Task Main_Help_ListsSubcommands()
    {
        var (code, output, _) = await Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("config", output);
    }

    [Theory]
    [InlineData("--seeds", "0", "--seeds must be positive")]
    [InlineData("--episodes", "0", "--episodes must be positive")]
    public async Task Main_BenchTriggerBadCounts_FailsWithOneLine(string option, string value, string message)
    {
        var (code, _, err) = await Run("bench", "trigger", "--task", "push", option, value);
        Assert.Equal(1, code);
        Assert.Contains(message, err);
    }

    [Fact]
    public async Task Main_BenchTriggerUnknownTask_NamesKnownTasks()
    {
        var (code, _, err) = await Run("bench", "trigger", "--task", "no-such-task");
        Assert.Equal(1, code);
        Assert.Contains("push", err);
    }

    internal static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var oldOut = Console.Out;
        var oldErr = Console.Error;
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        // Spectre's static console keeps the writer it was created with; point it at this run's output.
        var oldAnsi = AnsiConsole.Console;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(o), Interactive = InteractionSupport.No });
        try
        {
            var code = await Program.Main(args);
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            AnsiConsole.Console = oldAnsi;
            Console.SetOut(oldOut);
            Console.SetError(oldErr);
        }
    }
}
