namespace Rift.Learning;

/// <summary>Locates the repository's data folders (<c>models/</c>, <c>runs/</c>).</summary>
public static class RiftPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>
    /// The Rift root: <c>RIFT_HOME</c> if set, else the nearest ancestor of the executable (or of the working
    /// directory) holding a <c>models/</c> folder.
    /// </summary>
    public static string Root => RootPath.Value;

    public static string Models => Path.Combine(Root, "models");

    public static string Runs => Path.Combine(Root, "runs");

    /// <summary>
    /// Creates and returns a new run folder <c>{parent}/{name}__{utc}</c> (<c>…_2</c>, <c>…_3</c>, … when runs started
    /// in the same second): two commands started together never share a folder. Ownership is claimed by creating
    /// <c>.run</c> inside it exclusively.
    /// </summary>
    public static string NewRunDirectory(string parent, string name)
    {
        var stem = Path.Combine(parent, $"{name}__{DateTime.UtcNow:yyyyMMddTHHmmssZ}");
        for (var k = 1; ; k++)
        {
            var dir = k == 1 ? stem : $"{stem}_{k}";
            Directory.CreateDirectory(dir);
            try
            {
                using (new FileStream(Path.Combine(dir, ".run"), FileMode.CreateNew)) { }
                return dir;
            }
            catch (IOException) when (File.Exists(Path.Combine(dir, ".run")))
            {
                // taken by another run
            }
        }
    }

    private static string FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("RIFT_HOME");
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "models")) && File.Exists(Path.Combine(dir.FullName, "Rift.sln")))
                    return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
