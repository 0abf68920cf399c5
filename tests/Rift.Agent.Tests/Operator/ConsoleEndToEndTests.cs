using Microsoft.Playwright;
using Rift.Agent.Bridge;
using Rift.Agent.Events;
using Rift.Agent.Tests.Bridge;
using Rift.Agent.Tests.Loop;
using Rift.Learning;

namespace Rift.Agent.Tests.Operator;

/// <summary>
/// The operator console in a real browser (Debian's chromium driven by Playwright; no browser download): pressing
/// e-stop while a robot runs stops the robot within one step and the event is logged.
/// </summary>
public sealed class ConsoleEndToEndTests : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly string _dir = Directory.CreateTempSubdirectory("rift-console-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task<IBrowser> LaunchAsync(IPlaywright pw)
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run scripts/bootstrap.sh (Debian package chromium)");
        return await pw.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    [Fact]
    public async Task Console_EStopPressedWhileSimClientRuns_RobotStopsWithinOneStepAndEventLogged()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        await using var server = new BridgeServer(new BridgeOptions { Urls = "http://127.0.0.1:0", EventLogDirectory = _dir }, new FakeWorldFactory());
        await server.StartAsync();

        // The robot: the fake world through the bridge, paced so the operator can act mid-episode.
        var lastSent = -1;
        var pressedAtStep = -2;
        server.Operator.EStopPressed += _ => Volatile.Write(ref pressedAtStep, Volatile.Read(ref lastSent));
        var stopped = new TaskCompletionSource<(int Step, BridgeReply Reply)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));
        var robot = Task.Run(async () =>
        {
            await using var client = await BridgeClient.ConnectAsync(server.BaseUri, ct: cts.Token);
            await client.HelloAsync("fake", 2, 2, robot: "e2e", ct: cts.Token);
            var env = new FakeEnvironment(maxSteps: 100_000);
            for (var episode = 0; !stopped.Task.IsCompleted; episode++)
            {
                await client.BeginAsync(episode, episode, ct: cts.Token);
                var (obs, _) = env.Reset(episode);
                for (var t = 0; t < 400; t++)
                {
                    Volatile.Write(ref lastSent, t);
                    var d = await client.StepAsync(t, obs, HumanDecision.None, ct: cts.Token);
                    if (d.Stop == true)
                    {
                        stopped.TrySetResult((t, d));
                        break;
                    }
                    await Task.Delay(25, cts.Token);
                    obs = env.Step(d.Action!).Observation;
                }
                await client.EndAsync(null, null, false, false, false, ct: cts.Token);
            }
        }, cts.Token);

        using var pw = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(pw);
        var page = await browser.NewPageAsync();
        await page.GotoAsync(new Uri(server.BaseUri, "/console").ToString());
        await page.WaitForFunctionAsync("() => document.getElementById('conn').textContent === 'live'", null, new() { Timeout = 15_000 });
        // The live view shows the robot under the policy and its value trace before the operator acts.
        await page.WaitForFunctionAsync("() => document.getElementById('mode').textContent === 'policy' && document.getElementById('value').textContent !== '–'", null, new() { Timeout = 15_000 });
        Assert.False(robot.IsCompleted, robot.Exception?.ToString());

        await page.ClickAsync("#estop");
        var (stopStep, reply) = await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(InterventionKind.HumanEStop, reply.Kind);
        Assert.True(stopStep <= Volatile.Read(ref pressedAtStep) + 1, $"pressed while step {pressedAtStep} was the last sent, the robot stopped at step {stopStep}");
        await robot.WaitAsync(TimeSpan.FromSeconds(10));

        // The console shows the e-stop in its event history and the latched state.
        await page.WaitForSelectorAsync("#events .ev-human_e_stop", new() { Timeout = 10_000 });
        await page.WaitForFunctionAsync("() => document.getElementById('estop').classList.contains('engaged')", null, new() { Timeout = 10_000 });

        // Keyboard: R releases, T toggles takeover.
        await page.Keyboard.PressAsync("r");
        await WaitUntil(() => !server.Operator.EStopEngaged);
        await page.Keyboard.PressAsync("t");
        await WaitUntil(() => server.Operator.TakeoverRequested);
        await page.Keyboard.PressAsync("Space");
        await WaitUntil(() => server.Operator.EStopEngaged);

        await server.StopAsync();
        var log = Directory.GetFiles(_dir, "events-e2e-*.jsonl").Single();
        var estop = Assert.Single(EventLogReader.Read(log), e => e.Type == LoopEventType.HumanEStop);
        Assert.Equal(stopStep, estop.Step);
        Assert.Equal(EventSource.Human, estop.Source);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within 10 s");
            await Task.Delay(20);
        }
    }
}
