using System.CommandLine;
using System.Diagnostics;
using Rift.Agent.Cli;
using Rift.Learning;
using Rift.Sim;
using Rift.Sim.Interop;
using Rift.Sim.Rendering;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Rift.Agent.Commands;

/// <summary><c>rift sim render|expert</c> and <c>rift bench sim</c>.</summary>
public sealed class SimCommands : ICommandProvider
{
    public void Register(CliTree tree)
    {
        var sim = tree.Group("sim");
        sim.Subcommands.Add(RenderCommand());
        sim.Subcommands.Add(ExpertCommand());
        tree.Group("bench").Subcommands.Add(BenchCommand());
    }

    /// <summary>Routes MuJoCo warnings (never fatal) to the host's log.</summary>
    private static void LogWarnings(IHost host)
    {
        var log = host.Logger("Rift.Sim.MuJoCo");
        Mujoco.Warning += w => log.LogWarning("MuJoCo warning: {Warning}", w);
    }

    private static Command RenderCommand()
    {
        var task = CommonOptions.Task();
        var seed = CommonOptions.Seed();
        var output = new Option<string>("--out") { Description = "PNG file to write.", Required = true };
        var size = new Option<int>("--size") { Description = "Image side in pixels.", DefaultValueFactory = _ => 128 };
        var steps = new Option<int>("--steps") { Description = "Scripted-expert steps to run before rendering.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("render", "Render a camera frame of a task's initial state (or after N expert steps) as PNG.") { task, seed, output, size, steps };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            LogWarnings(host);
            var options = host.Options<SimOptions>();
            var t = CommonOptions.TaskValue(parse, task);
            var n = parse.GetValue(size);
            if (n is < 16 or > 2048) throw new RiftUserException($"--size must be in [16, 2048], got {n}");
            using var env = SimTasks.Create(t, options);
            var expert = SimTasks.CreateExpert(t, options);
            var (obs, _) = env.Reset(parse.GetValue(seed));
            var a = new float[4];
            for (var i = 0; i < parse.GetValue(steps); i++)
            {
                expert.Act(obs, a);
                var r = env.Step(a);
                obs = r.Observation;
                if (r.Terminated || r.Truncated) break;
            }
            var frame = env.Render(n);
            var path = parse.GetValue(output)!;
            PngWriter.Write(path, frame);
            AnsiConsole.MarkupLine($"wrote [green]{Markup.Escape(Path.GetFullPath(path))}[/] ({n}x{n}, task {t}, seed {parse.GetValue(seed)})");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Runs the scripted expert for <paramref name="episodes"/> seeded episodes (seeds seed0, seed0+1, ...).</summary>
    public static (double SuccessRate, double MeanSteps) RunExpert(string task, SimOptions options, int episodes, int seed0, Action? onEpisode = null)
    {
        using var env = SimTasks.Create(task, options);
        var expert = SimTasks.CreateExpert(task, options);
        var a = new float[4];
        int successes = 0, steps = 0;
        for (var e = 0; e < episodes; e++)
        {
            expert.Reset();
            var (obs, _) = env.Reset(seed0 + e);
            while (true)
            {
                expert.Act(obs, a);
                var r = env.Step(a);
                obs = r.Observation;
                steps++;
                if (r.Terminated || r.Truncated)
                {
                    if (r.Info.Success) successes++;
                    break;
                }
            }
            onEpisode?.Invoke();
        }
        return ((double)successes / episodes, (double)steps / episodes);
    }

    private static Command ExpertCommand()
    {
        var task = CommonOptions.Task();
        var episodes = CommonOptions.Episodes(100);
        var seed = CommonOptions.Seed();
        var json = CommonOptions.Json();
        var cmd = new Command("expert", "Run the task's scripted expert over seeded episodes; reports sim/expert_sr.") { task, episodes, seed, json };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            LogWarnings(host);
            var options = host.Options<SimOptions>();
            var t = CommonOptions.TaskValue(parse, task);
            var n = CommonOptions.PositiveValue(parse, episodes);
            (double sr, double len) result = default;
            AnsiConsole.Progress().Start(ctx =>
            {
                var bar = ctx.AddTask($"expert {t}", maxValue: n);
                result = RunExpert(t, options, n, parse.GetValue(seed), () => bar.Increment(1));
            });
            var table = new Table().AddColumns("metric", "value");
            table.AddRow("sim/expert_sr", result.sr.ToString("F3"));
            table.AddRow("sim/expert_episode_steps", result.len.ToString("F1"));
            AnsiConsole.Write(table);
            var path = parse.GetValue(json);
            if (path is not null)
                JsonMetrics.Write(path, new Dictionary<string, double> { ["sim/expert_sr"] = result.sr, ["sim/expert_episode_steps"] = result.len });
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Command BenchCommand()
    {
        var json = CommonOptions.Json();
        var repeats = new Option<int>("--repeats") { Description = "Timed repetitions per measurement (median reported).", DefaultValueFactory = _ => 5 };
        var cmd = new Command("sim", "Simulation throughput: physics steps/s, 128×128 render fps, environment steps/s with and without frames.") { json, repeats };
        cmd.SetAction(parse =>
        {
            using var host = RiftHost.Build();
            LogWarnings(host);
            var options = host.Options<SimOptions>();
            var reps = Math.Max(1, parse.GetValue(repeats));
            var metrics = new Dictionary<string, double>();
            AnsiConsole.Progress().Start(ctx =>
            {
                var bar = ctx.AddTask("bench sim", maxValue: 6);
                metrics["sim/physics_steps_per_s"] = Median(reps, () => PhysicsRate(options, cpu: false));
                metrics["sim/physics_steps_per_cpu_s"] = Median(reps, () => PhysicsRate(options, cpu: true));
                bar.Increment(2);
                metrics["sim/render_fps_128"] = Median(reps, () => RenderRate(options, 128));
                bar.Increment(1);
                metrics["sim/env_steps_per_s_128"] = Median(reps, () => EnvRate(options, true, 128, 300));
                bar.Increment(1);
                metrics["sim/env_steps_per_s"] = Median(reps, () => EnvRate(options, false, 128, 2000));
                metrics["sim/env_steps_per_cpu_s"] = Median(reps, () => EnvRate(options, false, 128, 2000, cpu: true));
                bar.Increment(2);
            });
            var table = new Table().AddColumns("metric", "median", "target");
            table.AddRow("sim/physics_steps_per_s", metrics["sim/physics_steps_per_s"].ToString("F0"), "≥ 50000");
            table.AddRow("sim/render_fps_128", metrics["sim/render_fps_128"].ToString("F0"), "≥ 300");
            table.AddRow("sim/env_steps_per_s_128", metrics["sim/env_steps_per_s_128"].ToString("F0"), "");
            table.AddRow("sim/env_steps_per_s", metrics["sim/env_steps_per_s"].ToString("F0"), "");
            table.AddRow("sim/physics_steps_per_cpu_s", metrics["sim/physics_steps_per_cpu_s"].ToString("F0"), "(process CPU time)");
            table.AddRow("sim/env_steps_per_cpu_s", metrics["sim/env_steps_per_cpu_s"].ToString("F0"), "(process CPU time)");
            AnsiConsole.Write(table);
            var path = parse.GetValue(json);
            if (path is not null) JsonMetrics.Write(path, metrics);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static double Median(int repeats, Func<double> measure)
    {
        var v = Enumerable.Range(0, repeats).Select(_ => measure()).Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : 0.5 * (v[v.Length / 2 - 1] + v[v.Length / 2]);
    }

    /// <summary>Seconds elapsed since <paramref name="start"/>: wall clock, or this process's CPU time (robust to other load on the machine).</summary>
    private static Func<double> Timer(bool cpu)
    {
        if (!cpu)
        {
            var sw = Stopwatch.StartNew();
            return () => sw.Elapsed.TotalSeconds;
        }
        var p = Process.GetCurrentProcess();
        var t0 = p.TotalProcessorTime;
        return () =>
        {
            p.Refresh();
            return (p.TotalProcessorTime - t0).TotalSeconds;
        };
    }

    // mj_step on the push scene (gripper at rest above the table, block resting on it).
    private static double PhysicsRate(SimOptions options, bool cpu)
    {
        using var env = SimTasks.Create("push", options);
        env.Reset(1);
        const int n = 20000;
        var elapsed = Timer(cpu);
        env.Data.Step(n);
        return n / elapsed();
    }

    // Scene update + render + read-back at size², expert-driven states.
    private static double RenderRate(SimOptions options, int size)
    {
        using var env = SimTasks.Create("push", options);
        env.Reset(1);
        env.Render(size);
        const int n = 300;
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++) env.Render(size);
        return n / sw.Elapsed.TotalSeconds;
    }

    private static double EnvRate(SimOptions baseOptions, bool frames, int size, int n, bool cpu = false)
    {
        var options = new SimOptions
        {
            RenderFrames = frames, FrameSize = size, Camera = baseOptions.Camera, RenderBackend = baseOptions.RenderBackend,
            ControlHz = baseOptions.ControlHz, ActionScale = baseOptions.ActionScale, ModelsDirectory = baseOptions.ModelsDirectory,
        };
        using var env = SimTasks.Create("push", options);
        var rng = new Random(3);
        var a = new float[4];
        env.Reset(0);
        var elapsed = Timer(cpu);
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < 4; j++) a[j] = (float)(2 * rng.NextDouble() - 1);
            var r = env.Step(a);
            if (r.Terminated || r.Truncated) env.Reset(i);
        }
        return n / elapsed();
    }
}
