namespace Rift.Memory.Tests;

internal static class TestData
{
    public static float Gaussian(Random r) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()));

    public static float[] RandomVector(Random r, int dim)
    {
        var v = new float[dim];
        for (var i = 0; i < dim; i++) v[i] = Gaussian(r);
        return v;
    }

    /// <summary>The vector an item with this id always has (crash tests regenerate it to check content).</summary>
    public static float[] VectorFor(ulong id, int dim) => RandomVector(new Random((int)(id * 2654435761 % int.MaxValue)), dim);

    public static MemoryPayload PayloadFor(ulong id) =>
        new($"task{id % 3}", (id % 100) / 100f, (id % 7) / 7f, id % 2 == 0 ? RecoverySource.Agent : RecoverySource.Human, (long)(id / 10), (int)(id % 10), 1_700_000_000_000 + (long)id);

    public static VectorItem ItemFor(ulong id, int dim) => new(id, VectorFor(id, dim), PayloadFor(id));
}

/// <summary>A fresh directory under /tmp removed at the end of the test.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rift-memory-tests", Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public VectorStoreOptions Options(FsyncPolicy fsync = FsyncPolicy.None) => new() { Path = Path, Fsync = fsync };

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
