namespace Rift.Learning;

/// <summary>An RGB camera frame, rows top-down, 3 bytes per pixel (rgb24).</summary>
public sealed class Frame
{
    public Frame(int width, int height, byte[] rgb)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"Frame size must be positive, got {width}x{height}.");
        if (rgb.Length != width * height * 3)
            throw new ArgumentException($"Frame buffer has {rgb.Length} bytes, expected {width}x{height}x3 = {width * height * 3}.", nameof(rgb));
        Width = width;
        Height = height;
        Rgb = rgb;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Rgb { get; }
}

/// <summary>
/// What the robot side reports each step. <see cref="Proprio"/> and <see cref="ObjectState"/> form the policy
/// input in simulation (state-based policies); the agent's critic and trigger see only <see cref="Frame"/>
/// (through a frozen encoder) or a precomputed <see cref="Embedding"/>.
/// </summary>
public sealed class Observation
{
    public required float[] Proprio { get; init; }

    /// <summary>Object and target poses (from simulation or a perception system).</summary>
    public float[] ObjectState { get; init; } = [];

    public Frame? Frame { get; init; }

    /// <summary>Embedding computed next to the robot (e.g. by V-JEPA 2); used instead of the built-in encoder.</summary>
    public float[]? Embedding { get; init; }

    /// <summary>The policy's input vector: proprio followed by object state.</summary>
    public float[] PolicyInput()
    {
        var v = new float[Proprio.Length + ObjectState.Length];
        Proprio.CopyTo(v, 0);
        ObjectState.CopyTo(v, Proprio.Length);
        return v;
    }
}

/// <summary>Privileged per-step information: for simulated supervisors and evaluation only, never for the agent.</summary>
public readonly record struct StepInfo(double Progress, bool Success);

public readonly record struct StepResult(Observation Observation, double Reward, bool Terminated, bool Truncated, StepInfo Info);

/// <summary>Static description of an environment.</summary>
public sealed record EnvSpec(string Task, int ActionSize, int PolicyInputSize, int MaxEpisodeSteps, double ControlDt);

/// <summary>
/// Gymnasium semantics: <c>Reset(seed)</c> starts an episode, <c>Step(action)</c> advances one control step.
/// Actions are in [-1, 1]. <c>Terminated</c> marks a true end (task success or failure state);
/// <c>Truncated</c> marks the time limit.
/// </summary>
public interface IEnvironment : IDisposable
{
    EnvSpec Spec { get; }

    /// <summary>Starts an episode with initial conditions drawn from <paramref name="seed"/>.</summary>
    (Observation Observation, StepInfo Info) Reset(int seed);

    StepResult Step(ReadOnlySpan<float> action);

    /// <summary>Captures the complete simulator state (physics, step counter, task randomisation).</summary>
    byte[] CaptureState();

    /// <summary>Restores a state from <see cref="CaptureState"/>; later steps replay bit-for-bit.</summary>
    void RestoreState(byte[] state);
}
