using System.ComponentModel.DataAnnotations;
using Rift.Nn;

namespace Rift.Learning;

/// <summary>Replay buffers (configuration section <c>Replay</c>).</summary>
public sealed class ReplayOptions
{
    /// <summary>Capacity of the online buffer in transitions (oldest overwritten first). Default 200000.</summary>
    [Range(1, 100_000_000)]
    public int OnlineCapacity { get; set; } = 200_000;

    /// <summary>Capacity of the intervention (demo) buffer in transitions. Default 100000.</summary>
    [Range(1, 100_000_000)]
    public int InterventionCapacity { get; set; } = 100_000;

    /// <summary>Share of each batch drawn from the intervention buffer (RLPD / HiL-SERL: 0.5). Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double InterventionFraction { get; set; } = 0.5;
}

/// <summary>
/// A bounded FIFO ring of transitions in flat arrays. Sampling is uniform with replacement through a caller's
/// <see cref="Rng"/> so that training is reproducible. Saved as a small binary file (magic "RRPL1").
/// </summary>
public sealed class ReplayBuffer
{
    private static readonly byte[] Magic = "RRPL1"u8.ToArray();
    private readonly float[] _s, _s2, _a, _r;
    private readonly byte[] _flags;

    public ReplayBuffer(int capacity, int inputSize, int actionSize)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "Replay capacity must be positive.");
        if (inputSize <= 0 || actionSize <= 0) throw new ArgumentOutOfRangeException(nameof(inputSize), $"Replay needs positive sizes, got input {inputSize}, action {actionSize}.");
        Capacity = capacity;
        InputSize = inputSize;
        ActionSize = actionSize;
        _s = new float[capacity * inputSize];
        _s2 = new float[capacity * inputSize];
        _a = new float[capacity * actionSize];
        _r = new float[capacity];
        _flags = new byte[capacity * 3];
    }

    public int Capacity { get; }
    public int InputSize { get; }
    public int ActionSize { get; }

    /// <summary>Transitions held (at most <see cref="Capacity"/>).</summary>
    public int Count { get; private set; }

    /// <summary>Transitions ever added.</summary>
    public long Added { get; private set; }

    private int Next => (int)(Added % Capacity);

    public void Add(Transition t)
    {
        if (t.Input.Length != InputSize || t.NextInput.Length != InputSize)
            throw new ArgumentException($"Transition input has {t.Input.Length} values (next {t.NextInput.Length}), the buffer holds {InputSize}.", nameof(t));
        if (t.Action.Length != ActionSize)
            throw new ArgumentException($"Transition action has {t.Action.Length} values, the buffer holds {ActionSize}.", nameof(t));
        var i = Next;
        t.Input.AsSpan().CopyTo(_s.AsSpan(i * InputSize));
        t.NextInput.AsSpan().CopyTo(_s2.AsSpan(i * InputSize));
        t.Action.AsSpan().CopyTo(_a.AsSpan(i * ActionSize));
        _r[i] = t.Reward;
        _flags[3 * i] = (byte)((t.Terminated ? 1 : 0) | (t.Truncated ? 2 : 0) | (t.Intervention ? 4 : 0));
        _flags[3 * i + 1] = (byte)t.Controller;
        _flags[3 * i + 2] = (byte)t.Kind;
        Added++;
        if (Count < Capacity) Count++;
    }

    /// <summary>The stored transition at slot <paramref name="index"/> (0 ≤ index &lt; Count).</summary>
    public Transition Get(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"Replay holds {Count} transitions.");
        var f = _flags[3 * index];
        return new Transition
        {
            Input = _s.AsSpan(index * InputSize, InputSize).ToArray(),
            NextInput = _s2.AsSpan(index * InputSize, InputSize).ToArray(),
            Action = _a.AsSpan(index * ActionSize, ActionSize).ToArray(),
            Reward = _r[index],
            Terminated = (f & 1) != 0,
            Truncated = (f & 2) != 0,
            Intervention = (f & 4) != 0,
            Controller = (Controller)_flags[3 * index + 1],
            Kind = (InterventionKind)_flags[3 * index + 2],
        };
    }

    /// <summary>Fills rows [<paramref name="start"/>, start + count) of <paramref name="batch"/> with uniform samples.</summary>
    public void SampleInto(Batch batch, int start, int count, Rng rng)
    {
        if (count == 0) return;
        if (Count == 0) throw new InvalidOperationException("Cannot sample from an empty replay buffer.");
        if (batch.InputSize != InputSize || batch.ActionSize != ActionSize)
            throw new ArgumentException($"Batch is [{batch.InputSize} in, {batch.ActionSize} act], buffer is [{InputSize}, {ActionSize}].", nameof(batch));
        for (var k = 0; k < count; k++)
        {
            var row = start + k;
            var i = rng.NextInt(Count);
            _s.AsSpan(i * InputSize, InputSize).CopyTo(batch.Inputs.AsSpan(row * InputSize));
            _s2.AsSpan(i * InputSize, InputSize).CopyTo(batch.NextInputs.AsSpan(row * InputSize));
            _a.AsSpan(i * ActionSize, ActionSize).CopyTo(batch.Actions.AsSpan(row * ActionSize));
            var f = _flags[3 * i];
            batch.TaskRewards[row] = _r[i];
            batch.Terminated[row] = (f & 1) != 0 ? 1f : 0f;
            batch.Truncated[row] = (f & 2) != 0 ? 1f : 0f;
            batch.Interventions[row] = (f & 4) != 0 ? 1f : 0f;
            batch.Human[row] = _flags[3 * i + 1] == (byte)Controller.Policy ? 0f : 1f;
            batch.Rewards[row] = _r[i];
            batch.Bootstrap[row] = (f & 1) != 0 ? 0f : 1f;
        }
    }

    public void Save(string path)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(Magic);
        w.Write(Capacity);
        w.Write(InputSize);
        w.Write(ActionSize);
        w.Write(Count);
        w.Write(Added);
        WriteFloats(w, _s);
        WriteFloats(w, _s2);
        WriteFloats(w, _a);
        WriteFloats(w, _r);
        w.Write(_flags);
    }

    public static ReplayBuffer Load(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a Rift replay file (bad header).");
        var buffer = new ReplayBuffer(r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
        buffer.Count = r.ReadInt32();
        buffer.Added = r.ReadInt64();
        ReadFloats(r, buffer._s);
        ReadFloats(r, buffer._s2);
        ReadFloats(r, buffer._a);
        ReadFloats(r, buffer._r);
        if (r.Read(buffer._flags, 0, buffer._flags.Length) != buffer._flags.Length) throw new InvalidDataException($"{path}: replay file is truncated.");
        return buffer;
    }

    private static void WriteFloats(BinaryWriter w, float[] a) => w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()));

    private static void ReadFloats(BinaryReader r, float[] a)
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan());
        if (r.Read(bytes) != bytes.Length) throw new InvalidDataException("Replay file is truncated.");
    }
}

/// <summary>
/// The online buffer plus the intervention buffer of HiL-SERL / RLPD: human (or agent recovery) transitions go to
/// both, every batch takes <see cref="ReplayOptions.InterventionFraction"/> of its rows from the intervention buffer
/// (all from online while it is empty).
/// </summary>
public sealed class MixedReplay
{
    public MixedReplay(ReplayOptions options, int inputSize, int actionSize)
    {
        Options = options;
        Online = new ReplayBuffer(options.OnlineCapacity, inputSize, actionSize);
        Interventions = new ReplayBuffer(options.InterventionCapacity, inputSize, actionSize);
    }

    private MixedReplay(ReplayOptions options, ReplayBuffer online, ReplayBuffer interventions)
    {
        Options = options;
        Online = online;
        Interventions = interventions;
    }

    public ReplayOptions Options { get; }
    public ReplayBuffer Online { get; }
    public ReplayBuffer Interventions { get; }

    /// <summary>Adds to the online buffer, and to the intervention buffer when a human or the agent acted.</summary>
    public void Add(Transition t)
    {
        Online.Add(t);
        if (t.Controller != Controller.Policy) Interventions.Add(t);
    }

    public void Sample(Batch batch, Rng rng)
    {
        var fromInterventions = Interventions.Count == 0 ? 0 : (int)Math.Round(batch.Size * Options.InterventionFraction);
        if (Online.Count == 0) fromInterventions = batch.Size;
        Online.SampleInto(batch, 0, batch.Size - fromInterventions, rng);
        Interventions.SampleInto(batch, batch.Size - fromInterventions, fromInterventions, rng);
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        Online.Save(Path.Combine(directory, "online.replay"));
        Interventions.Save(Path.Combine(directory, "interventions.replay"));
    }

    public static MixedReplay Load(string directory, ReplayOptions options) =>
        new(options, ReplayBuffer.Load(Path.Combine(directory, "online.replay")), ReplayBuffer.Load(Path.Combine(directory, "interventions.replay")));
}
