using System.Diagnostics;
using System.Globalization;
using Rift.Memory.Embedded;

namespace Rift.Memory.Tests;

/// <summary>A writer process is killed mid-write; every write it acknowledged must survive, intact.</summary>
public sealed class CrashTests
{
    private const int Dim = 1024;

    /// <summary>Runs the crash-writer child until it has acknowledged <paramref name="acks"/> items, then kills it.</summary>
    private static HashSet<ulong> RunAndKill(string dir, FsyncPolicy fsync, ulong firstId, int acks)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "exec", typeof(Program).Assembly.Location, "crash-writer", dir, fsync.ToString(), firstId.ToString(CultureInfo.InvariantCulture), Dim.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var acked = new HashSet<ulong>();
        try
        {
            while (acked.Count < acks)
            {
                var line = p.StandardOutput.ReadLine();
                if (line is null) throw new Xunit.Sdk.XunitException($"crash-writer exited early: {p.StandardError.ReadToEnd()}");
                foreach (var id in line.Split(' ').Skip(1)) acked.Add(ulong.Parse(id, CultureInfo.InvariantCulture));
            }
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
        // Acks already in the pipe when the process died were acknowledged too.
        string? rest;
        while ((rest = p.StandardOutput.ReadLine()) is not null)
            if (rest.StartsWith("ack ", StringComparison.Ordinal))
                foreach (var id in rest.Split(' ').Skip(1)) acked.Add(ulong.Parse(id, CultureInfo.InvariantCulture));
        return acked;
    }

    private static void CheckIntact(EmbeddedVectorStore store, HashSet<ulong> acked)
    {
        foreach (var id in acked)
        {
            var item = store.Get("crash", id);
            Assert.True(item is not null, $"acknowledged item {id} is missing after the crash");
            Assert.Equal(TestData.VectorFor(id, Dim), item.Vector);
            Assert.Equal(TestData.PayloadFor(id), item.Payload);
        }
        // Nothing corrupt: whatever else is there (a write in flight at the kill) is a complete, correct item.
        foreach (var item in store.List("crash", withVectors: true))
        {
            Assert.Equal(TestData.VectorFor(item.Id, Dim), item.Vector);
            Assert.Equal(TestData.PayloadFor(item.Id), item.Payload);
        }
        var probe = TestData.VectorFor(acked.First(), Dim);
        var hit = store.Search("crash", probe, 1, mode: SearchMode.BruteForce);
        Assert.Equal(acked.First(), hit[0].Id);
    }

    [Theory]
    [InlineData(FsyncPolicy.EveryWrite)]
    [InlineData(FsyncPolicy.None)]
    public void KilledWriter_Reopen_KeepsEveryAcknowledgedItem(FsyncPolicy fsync)
    {
        using var dir = new TempDir();
        var acked = RunAndKill(dir.Path, fsync, firstId: 1, acks: 400);
        using (var store = new EmbeddedVectorStore(dir.Options()))
        {
            CheckIntact(store, acked);
            Assert.True(store.Storage("crash").Segments > 1, "the writer should have rotated segments");
        }

        // A second writer appends to the recovered log and is killed too; the union must survive.
        var acked2 = RunAndKill(dir.Path, fsync, firstId: 1_000_000, acks: 200);
        acked.UnionWith(acked2);
        using (var store = new EmbeddedVectorStore(dir.Options()))
            CheckIntact(store, acked);
    }
}
