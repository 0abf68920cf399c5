using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rift.Agent.Bridge;
using Rift.Agent.Cli;
using Rift.Agent.Events;
using Rift.Agent.Frames;
using Rift.Agent.Loop;
using Rift.Agent.Online;
using Rift.Sim;
using Rift.Sim.Supervisors;
using Spectre.Console;

namespace Rift.Agent.Commands;

/// <summary><c>rift serve</c> (robot bridge + operator console) and <c>rift robot sim-client</c> (reference robot).</summary>
public sealed class RobotCommands : ICommandProvider
{
    public void Register(CliTree tree)
    {
        tree.Root.Subcommands.Add(ServeCommand());
        tree.Group("robot").Subcommands.Add(SimClientCommand());
        tree.Group("robot").Subcommands.Add(CameraCommand());
    }

    private static Command ServeCommand()
    {
        var run = RunOption("Serve the trained agent of this run folder of 'rift train online' (checkpoints/latest; same as --Bridge:Run). Without it sessions run the stand-in --Bridge:Policy.");
        var cmd = new Command("serve", "Serve the robot bridge (WebSocket /bridge, docs/robot.md) and the operator console (/console) until Ctrl+C. Options: --run RUN_DIR, --Bridge:Urls, --Bridge:Token, ...")
        {
            run,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            using var host = RiftHost.Build();
            var options = host.Options<BridgeOptions>();
            using var agent = LoadAgent(parse.GetValue(run) ?? options.Run, null);
            IBridgeSessionFactory factory = agent is null ? new DefaultSessionFactory(options, host.Options<ArbitrationOptions>()) : new DeployedSessionFactory(agent);
            var cameraOptions = host.Options<CameraOptions>();
            using var camera = string.IsNullOrWhiteSpace(cameraOptions.Input) ? null : new FfmpegFrameSource(cameraOptions);
            await using var server = new BridgeServer(options, factory, host.Options<EventLogOptions>(), host.Services.GetRequiredService<ILoggerFactory>(), camera);
            camera?.Start();
            await server.StartAsync(ct);
            var token = string.IsNullOrEmpty(options.Token) ? "" : "?token=…";
            foreach (var a in server.Addresses)
                AnsiConsole.MarkupLine($"bridge [green]{Markup.Escape(a.Replace("http", "ws"))}{BridgeProtocol.Path}[/]   console [green]{Markup.Escape(a)}/console{Markup.Escape(token)}[/]");
            AnsiConsole.MarkupLine(agent is null
                ? $"sessions run the stand-in policy [yellow]{Markup.Escape(options.Policy)}[/] without agent (serve a trained run with --run RUN_DIR)"
                : $"serving run [blue]{Markup.Escape(agent.RunDirectory)}[/]: task {Markup.Escape(agent.Task)}, method {OnlineTrainer.MethodName(agent.Spec.Method)}, checkpoint {agent.Checkpoint} ({agent.EpisodesTrained} episodes), agent {(agent.HasAgent ? $"on, memory {agent.Memory!.Count} items (read-only)" : "off")}");
            AnsiConsole.MarkupLine($"event logs in [grey]{Markup.Escape(server.EventLogDirectory)}[/]; Ctrl+C stops");
            // Stop on Ctrl+C (SIGINT), SIGTERM (systemd, docker stop) or SIGQUIT: close the sessions (each robot's episode
            // ends, its event log is flushed), then Kestrel.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
            using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Cancel);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            AnsiConsole.MarkupLine("stopping…");
            await server.StopAsync();
            return ExitCodes.Ok;

            void Cancel(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }
        });
        return cmd;
    }

    private static Command SimClientCommand()
    {
        var task = CommonOptions.Task();
        var episodes = CommonOptions.Episodes(10);
        var seed = CommonOptions.Seed();
        var json = CommonOptions.Json();
        var url = new Option<string?>("--url") { Description = "Bridge server (http://host:port); without it an in-process server on a loopback port is started." };
        var token = new Option<string?>("--token") { Description = "Token for the server (default: Bridge:Token)." };
        var evalEpisodes = new Option<int>("--eval-episodes") { Description = "Deterministic evaluation episodes after training episodes (online/sr_eval).", DefaultValueFactory = _ => 5 };
        var stepDelay = new Option<int>("--step-delay-ms") { Description = "Pause per step (to watch the console).", DefaultValueFactory = _ => 0 };
        var pngFrames = new Option<bool>("--png-frames") { Description = "Send camera frames (with --Sim:RenderFrames=true) as PNG instead of raw rgb24." };
        var compare = new Option<bool>("--compare") { Description = "Also run the same episodes in process (EpisodeRunner) and report the differences (bridge/max_abs_diff)." };
        var run = RunOption("Trained run folder: serves it on the in-process server (without --url), runs it for --compare (give the run the --url server serves), and simulates the run's own robot and human (Sim, SimSupervisor of its config.json).");
        var cmd = new Command("sim-client", "Drive a simulated task through the robot bridge with a simulated human (--SimSupervisor:*) on the robot side; reports the online/* metrics.")
        {
            task, episodes, seed, json, url, token, evalEpisodes, stepDelay, compare, pngFrames, run,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            using var host = RiftHost.Build();
            var t = parse.GetValue(task)!;
            if (!SimTasks.TaskNames.Contains(t)) throw new RiftUserException($"unknown task '{t}'; known tasks: {string.Join(", ", SimTasks.TaskNames)}");
            var n = parse.GetValue(episodes);
            var ne = parse.GetValue(evalEpisodes);
            if (n < 0 || ne < 0 || n + ne == 0) throw new RiftUserException($"--episodes ({n}) and --eval-episodes ({ne}) must be ≥ 0 and not both 0");
            var bridgeOptions = host.Options<BridgeOptions>();
            var loopOptions = host.Options<ArbitrationOptions>();
            var simOptions = host.Options<SimOptions>();
            var supervisorOptions = host.Options<SimSupervisorOptions>();
            var settings = new SimRunSettings(t, n, parse.GetValue(seed), ne, parse.GetValue(stepDelay));
            var log = host.Services.GetRequiredService<ILoggerFactory>();
            using var agent = LoadAgent(parse.GetValue(run), t);
            if (agent is not null)
            {
                // Test a trained run against the robot and human it was trained with.
                simOptions = agent.Settings.Sim;
                if (agent.Settings.Online.Encoder == OnlineEncoder.Conv)
                {
                    // A run whose agent works on camera frames (train online's default) needs the robot to send them.
                    simOptions = RiftJson.Copy(simOptions);
                    simOptions.RenderFrames = true;
                }
                supervisorOptions = agent.Settings.Supervisor;
            }
            IBridgeSessionFactory Factory(BridgeOptions o) => agent is null ? new DefaultSessionFactory(o, loopOptions) : new DeployedSessionFactory(agent);

            BridgeServer? server = null;
            Uri target;
            var tok = parse.GetValue(token) ?? bridgeOptions.Token;
            if (parse.GetValue(url) is { } u)
            {
                if (!Uri.TryCreate(u, UriKind.Absolute, out var parsed)) throw new RiftUserException($"--url '{u}' is not an absolute URL");
                target = parsed;
            }
            else
            {
                var local = new BridgeOptions
                {
                    Urls = "http://127.0.0.1:0", Token = bridgeOptions.Token, EventLogDirectory = bridgeOptions.EventLogDirectory, Policy = bridgeOptions.Policy,
                    PolicyNoise = bridgeOptions.PolicyNoise, MaxMessageBytes = bridgeOptions.MaxMessageBytes, LatchEStop = bridgeOptions.LatchEStop,
                };
                server = new BridgeServer(local, Factory(local), host.Options<EventLogOptions>(), log);
                await server.StartAsync(ct);
                target = server.BaseUri;
            }

            SimRunResult? bridged = null;
            SimRunResult? inProcess = null;
            try
            {
                await AnsiConsole.Progress().StartAsync(async ctx =>
                {
                    var bar = ctx.AddTask($"{t} over the bridge", maxValue: n + ne);
                    using var env = SimTasks.Create(t, simOptions);
                    var supervisor = SimulatedSupervisor.For(env, supervisorOptions);
                    await using var client = await BridgeClient.ConnectAsync(target, tok, ct);
                    client.PngFrames = parse.GetValue(pngFrames);
                    await client.HelloAsync(t, env.Spec.ActionSize, env.Spec.PolicyInputSize, "sim-client", settings.Seed, ct);
                    bridged = await SimRobot.RunBridgeAsync(client, env, supervisor, settings, _ => bar.Increment(1), ct);
                    if (parse.GetValue(compare))
                    {
                        var bar2 = ctx.AddTask($"{t} in process", maxValue: n + ne);
                        using var env2 = SimTasks.Create(t, simOptions);
                        var request = new SessionRequest(t, "in-process", env2.Spec.ActionSize, env2.Spec.PolicyInputSize, settings.Seed);
                        var components = Factory(bridgeOptions).Create(request);
                        inProcess = SimRobot.RunInProcess(env2, SimulatedSupervisor.For(env2, supervisorOptions), components, settings, _ => bar2.Increment(1));
                    }
                });
            }
            catch (BridgeErrorException e)
            {
                throw new RiftUserException($"the bridge refused the run: {e.Message}");
            }
            catch (System.Net.WebSockets.WebSocketException e)
            {
                throw new RiftUserException($"cannot talk to the bridge at {target}: {e.Message}");
            }
            finally
            {
                if (server is not null) await server.DisposeAsync();
            }

            var metrics = bridged!.Metrics();
            var table = new Table().AddColumns("metric", "bridge");
            Dictionary<string, double>? reference = null;
            if (inProcess is not null)
            {
                reference = inProcess.Metrics();
                table.AddColumn("in process");
                var diff = metrics.Keys.Intersect(reference.Keys).Max(k => Math.Abs(metrics[k] - reference[k]));
                foreach (var (k, v) in reference) metrics["inprocess/" + k] = v;
                metrics["bridge/max_abs_diff"] = diff;
            }
            foreach (var k in bridged.Metrics().Keys.Order(StringComparer.Ordinal))
            {
                var row = new List<string> { k, Format(metrics[k]) };
                if (reference is not null) row.Add(Format(reference[k]));
                table.AddRow(row.Select(Markup.Escape).ToArray());
            }
            if (metrics.TryGetValue("bridge/max_abs_diff", out var dd)) table.AddRow("bridge/max_abs_diff", Format(dd), "");
            foreach (var (k, v) in bridged.Latency())
            {
                metrics[k] = v;
                table.AddRow(reference is null ? [k, Format(v)] : [k, Format(v), ""]);
            }
            AnsiConsole.Write(table);
            if (parse.GetValue(json) is { } path) JsonMetrics.Write(path, metrics);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Option<string?> RunOption(string description) => new("--run") { Description = description };

    /// <summary>The trained agent of <paramref name="runDir"/> (null when empty), with a status line while the run's setup is rebuilt.</summary>
    private static DeployedAgent? LoadAgent(string? runDir, string? task)
    {
        if (string.IsNullOrWhiteSpace(runDir)) return null;
        DeployedAgent? agent = null;
        try
        {
            AnsiConsole.Status().Start($"loading run {runDir} (rebuilding its setup, loading checkpoints/latest)", _ => agent = DeployedAgent.Load(runDir, task));
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new RiftUserException($"cannot serve run {runDir}: {e.Message}");
        }
        return agent;
    }

    private static Command CameraCommand()
    {
        var seconds = new Option<double>("--seconds") { Description = "How long to read.", DefaultValueFactory = _ => 3.0 };
        var png = new Option<string?>("--png") { Description = "Write the last frame as PNG." };
        var json = CommonOptions.Json();
        var cmd = new Command("camera", "Read the camera configured by --Camera:Input (file, /dev/videoN, rtsp://…, lavfi:GRAPH) through ffmpeg; reports frames/s and state.") { seconds, png, json };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            var o = host.Options<CameraOptions>();
            if (string.IsNullOrWhiteSpace(o.Input)) throw new RiftUserException("set the camera with --Camera:Input=PATH|/dev/videoN|rtsp://…|lavfi:testsrc");
            using var source = new FfmpegFrameSource(o).Start();
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var first = source.ReadNext(TimeSpan.FromMilliseconds(o.StartTimeoutMs));
            var firstMs = sw.Elapsed.TotalMilliseconds;
            var t0 = source.FramesRead;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (first is not null && clock.Elapsed.TotalSeconds < parse.GetValue(seconds) && source.State is FrameSourceState.Running) Thread.Sleep(20);
            var fps = (source.FramesRead - t0) / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
            var ok = source.TryGetLatest(out var last, out var problem);
            if (parse.GetValue(png) is { } path && ok) Rift.Sim.Rendering.PngWriter.Write(path, last);
            var table = new Table().AddColumns("metric", "value");
            table.AddRow("camera/state", source.State.ToString());
            table.AddRow("camera/frames", source.FramesRead.ToString(CultureInfo.InvariantCulture));
            table.AddRow("camera/fps", fps.ToString("0.0", CultureInfo.InvariantCulture));
            table.AddRow("camera/first_frame_ms", first is null ? "–" : firstMs.ToString("0", CultureInfo.InvariantCulture));
            table.AddRow("camera/size", $"{o.Width}x{o.Height}");
            if (!ok) table.AddRow("camera/problem", Markup.Escape(problem));
            AnsiConsole.Write(table);
            if (parse.GetValue(json) is { } j)
                JsonMetrics.Write(j, new Dictionary<string, double>
                {
                    ["camera/frames"] = source.FramesRead, ["camera/fps"] = fps, ["camera/first_frame_ms"] = first is null ? double.NaN : firstMs,
                });
            return first is null ? ExitCodes.Failure : ExitCodes.Ok;
        });
        return cmd;
    }

    private static string Format(double v) => Math.Abs(v - Math.Round(v)) < 1e-12 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("0.0000", CultureInfo.InvariantCulture);
}
