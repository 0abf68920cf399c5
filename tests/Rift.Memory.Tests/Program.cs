using System.Globalization;
using Rift.Memory.Embedded;

namespace Rift.Memory.Tests;

/// <summary>
/// Child-process mode for the crash tests: <c>dotnet Rift.Memory.Tests.dll crash-writer DIR FSYNC FIRST_ID DIM</c>
/// writes items forever (single upserts and batches of 3) and prints "ack ID" after each write returns.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 5 || args[0] != "crash-writer")
        {
            Console.Error.WriteLine("usage: crash-writer DIR FSYNC FIRST_ID DIM");
            return 2;
        }
        var fsync = Enum.Parse<FsyncPolicy>(args[2]);
        var id = ulong.Parse(args[3], CultureInfo.InvariantCulture);
        var dim = int.Parse(args[4], CultureInfo.InvariantCulture);
        using var store = new EmbeddedVectorStore(new VectorStoreOptions { Path = args[1], Fsync = fsync, SegmentMaxBytes = 1 << 18 });
        store.CreateCollection("crash", dim, DistanceMetric.Cosine);
        var stdout = Console.Out;
        while (true)
        {
            if (id % 5 == 0)
            {
                store.Upsert("crash", [TestData.ItemFor(id, dim), TestData.ItemFor(id + 1, dim), TestData.ItemFor(id + 2, dim)]);
                stdout.WriteLine($"ack {id} {id + 1} {id + 2}");
                id += 3;
            }
            else
            {
                store.Upsert("crash", TestData.ItemFor(id, dim));
                stdout.WriteLine($"ack {id}");
                id++;
            }
            stdout.Flush();
        }
    }
}
