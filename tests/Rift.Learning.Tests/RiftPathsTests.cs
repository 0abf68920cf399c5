namespace Rift.Learning.Tests;

public class RiftPathsTests
{
    [Fact]
    public void NewRunDirectory_SameNameTwice_GivesTwoFolders()
    {
        var parent = Path.Combine(Path.GetTempPath(), $"rift-runs-{Guid.NewGuid():N}");
        try
        {
            var dirs = Enumerable.Range(0, 3).Select(_ => RiftPaths.NewRunDirectory(parent, "bench-trigger__push")).ToList();
            Assert.Equal(3, dirs.Distinct().Count());
            Assert.All(dirs, d => Assert.True(Directory.Exists(d)));
            Assert.StartsWith(Path.Combine(parent, "bench-trigger__push__"), dirs[0]);
        }
        finally
        {
            if (Directory.Exists(parent)) Directory.Delete(parent, recursive: true);
        }
    }
}
