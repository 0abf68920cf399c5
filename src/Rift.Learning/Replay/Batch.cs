namespace Rift.Learning;

/// <summary>
/// A training batch in flat row-major arrays. Replay fills the raw fields (task reward, termination, truncation,
/// intervention flag e, controller); a learner derives <see cref="Rewards"/> and <see cref="Bootstrap"/> from them
/// (e.g. RIFT: r = −e, bootstrap through truncations only) before the SAC update.
/// </summary>
public sealed class Batch
{
    public Batch(int size, int inputSize, int actionSize)
    {
        if (size <= 0 || inputSize <= 0 || actionSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(size), $"Batch needs positive sizes, got size {size}, input {inputSize}, action {actionSize}.");
        Size = size;
        InputSize = inputSize;
        ActionSize = actionSize;
        Inputs = new float[size * inputSize];
        NextInputs = new float[size * inputSize];
        Actions = new float[size * actionSize];
        TaskRewards = new float[size];
        Terminated = new float[size];
        Truncated = new float[size];
        Interventions = new float[size];
        Human = new float[size];
        Rewards = new float[size];
        Bootstrap = new float[size];
    }

    public int Size { get; }
    public int InputSize { get; }
    public int ActionSize { get; }

    /// <summary>s, [Size, InputSize].</summary>
    public float[] Inputs { get; }

    /// <summary>s', [Size, InputSize].</summary>
    public float[] NextInputs { get; }

    /// <summary>a, [Size, ActionSize].</summary>
    public float[] Actions { get; }

    /// <summary>The environment's reward as recorded.</summary>
    public float[] TaskRewards { get; }

    /// <summary>1 where the environment terminated (a true end: success or failure state).</summary>
    public float[] Terminated { get; }

    /// <summary>1 where the episode was truncated (time limit, or an e-stop ending the rollout).</summary>
    public float[] Truncated { get; }

    /// <summary>e: 1 where an intervention started.</summary>
    public float[] Interventions { get; }

    /// <summary>1 where a human (or the agent's recovery) produced the action.</summary>
    public float[] Human { get; }

    /// <summary>The learner's reward r(s, a), derived from the raw fields.</summary>
    public float[] Rewards { get; }

    /// <summary>1 − done: 0 where the critic target must not bootstrap from s'.</summary>
    public float[] Bootstrap { get; }

    /// <summary>Copies row <paramref name="row"/> from a stored transition.</summary>
    public void Set(int row, Transition t)
    {
        t.Input.AsSpan().CopyTo(Inputs.AsSpan(row * InputSize, InputSize));
        t.NextInput.AsSpan().CopyTo(NextInputs.AsSpan(row * InputSize, InputSize));
        t.Action.AsSpan().CopyTo(Actions.AsSpan(row * ActionSize, ActionSize));
        TaskRewards[row] = t.Reward;
        Terminated[row] = t.Terminated ? 1f : 0f;
        Truncated[row] = t.Truncated ? 1f : 0f;
        Interventions[row] = t.Intervention ? 1f : 0f;
        Human[row] = t.Controller == Controller.Policy ? 0f : 1f;
        Rewards[row] = t.Reward;
        Bootstrap[row] = t.Terminated ? 0f : 1f;
    }

    /// <summary>
    /// The first non-finite value in the batch as "field[index] = value", or null when every value is finite.
    /// Checked before every optimiser step so that one corrupt transition cannot poison the weights.
    /// </summary>
    public string? FindNonFinite()
    {
        foreach (var (name, a) in new (string, float[])[]
                 { ("inputs", Inputs), ("next_inputs", NextInputs), ("actions", Actions), ("rewards", Rewards), ("bootstrap", Bootstrap) })
            for (var i = 0; i < a.Length; i++)
                if (!float.IsFinite(a[i]))
                    return $"{name}[{i}] = {a[i]}";
        return null;
    }
}
