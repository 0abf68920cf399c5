using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Rift.ValueCritic;

/// <summary>
/// On-disk cache of collected, labelled episodes (configuration section <c>EpisodeCache</c>). Collecting rollouts with
/// frames and H-step counterfactual labels dominates <c>rift train critic</c> and <c>rift eval trigger</c>; with the
/// cache, re-fitting the heads or re-evaluating reuses the episodes. The key covers everything that changes what is
/// collected (task, seeds, counts, base-policy, simulator and label options, the encoder's weights), so a stale
/// entry is never read.
/// </summary>
public sealed class EpisodeCacheOptions
{
    /// <summary>Use the cache (read and write). Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Folder of cache files; relative paths are under the Rift root. Default <c>runs/critic-cache</c>.</summary>
    [Required]
    public string Directory { get; set; } = Path.Combine("runs", "critic-cache");
}

/// <summary>Binary episode files keyed by a hash of what produced them (see <see cref="EpisodeCacheOptions"/>).</summary>
public static class EpisodeCache
{
    private const int Magic = 0x52455043; // "REPC"
    private const int Version = 2; // 2 added the label odds; version-1 files (no odds) are still read
    private const int KeyVersion = 1; // keys of entries whose content is unchanged stay valid across file versions

    /// <summary>
    /// A stable key from <paramref name="parts"/>: strings and numbers as invariant text, byte arrays by content,
    /// any other object by its public readable properties (name=value, sorted). 20 hex characters of SHA-256.
    /// </summary>
    public static string Key(params object?[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var sb = new StringBuilder("v").Append(KeyVersion);
        foreach (var p in parts) sb.Append('|').Append(Describe(p));
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..20].ToLowerInvariant();
    }

    private static string Describe(object? p) => p switch
    {
        null => "null",
        string s => s,
        bool b => b ? "true" : "false",
        byte[] b => Convert.ToHexString(SHA256.HashData(b)),
        System.Collections.IEnumerable e => "[" + string.Join(",", e.Cast<object?>().Select(Describe)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => p.GetType().Name + "{" + string.Join(",", p.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(x => x.CanRead && x.GetIndexParameters().Length == 0)
            .OrderBy(x => x.Name, StringComparer.Ordinal)
            .Select(x => x.Name + "=" + Describe(x.GetValue(p)))) + "}",
    };

    /// <summary>
    /// The episodes stored under <paramref name="key"/> in <paramref name="directory"/> if present, else
    /// <paramref name="collect"/>() saved there. A null directory disables the cache (always collects).
    /// </summary>
    public static List<RolloutEpisode> GetOrCollect(string? directory, string name, string key, Func<List<RolloutEpisode>> collect)
    {
        ArgumentNullException.ThrowIfNull(collect);
        if (directory is null) return collect();
        var path = Path.Combine(directory, $"{name}.{key}.bin");
        if (File.Exists(path))
        {
            try { return Load(path); }
            catch (InvalidDataException) { File.Delete(path); }
        }
        var eps = collect();
        System.IO.Directory.CreateDirectory(directory);
        var tmp = path + ".tmp" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        Save(tmp, eps);
        File.Move(tmp, path, overwrite: true);
        return eps;
    }

    /// <summary>Writes episodes (actions, embeddings, progress, labels, outcome; frames are not stored).</summary>
    public static void Save(string path, IReadOnlyList<RolloutEpisode> episodes)
    {
        ArgumentNullException.ThrowIfNull(episodes);
        using var w = new BinaryWriter(File.Create(path));
        w.Write(Magic);
        w.Write(Version);
        w.Write(episodes.Count);
        foreach (var ep in episodes)
        {
            w.Write((byte)ep.Kind);
            w.Write(ep.Seed);
            w.Write(ep.Success);
            w.Write(ep.InterventionStart);
            WriteRows(w, ep.Actions);
            WriteRows(w, ep.Embeddings);
            w.Write(ep.Progress.Count);
            foreach (var p in ep.Progress) w.Write(p);
            w.Write(ep.Labels.Count);
            foreach (var l in ep.Labels) w.Write(l);
            w.Write(ep.LabelOdds.Count);
            foreach (var o in ep.LabelOdds) w.Write(o);
        }
    }

    /// <summary>Reads a file written by <see cref="Save"/>; throws <see cref="InvalidDataException"/> if it is not one.</summary>
    public static List<RolloutEpisode> Load(string path)
    {
        try
        {
            using var r = new BinaryReader(File.OpenRead(path));
            if (r.ReadInt32() != Magic) throw new InvalidDataException($"{path}: not a Rift episode cache file.");
            var version = r.ReadInt32();
            if (version is < 1 or > Version) throw new InvalidDataException($"{path}: episode cache file version {version}; this build reads 1–{Version}.");
            var n = r.ReadInt32();
            var list = new List<RolloutEpisode>(n);
            for (var e = 0; e < n; e++)
            {
                var ep = new RolloutEpisode { Kind = (RolloutKind)r.ReadByte(), Seed = r.ReadInt32() };
                ep.Success = r.ReadBoolean();
                ep.InterventionStart = r.ReadInt32();
                ReadRows(r, ep.Actions);
                ReadRows(r, ep.Embeddings);
                var np = r.ReadInt32();
                for (var i = 0; i < np; i++) ep.Progress.Add(r.ReadDouble());
                var nl = r.ReadInt32();
                for (var i = 0; i < nl; i++) ep.Labels.Add(r.ReadBoolean());
                var no = version >= 2 ? r.ReadInt32() : 0;
                for (var i = 0; i < no; i++) ep.LabelOdds.Add(r.ReadSingle());
                list.Add(ep);
            }
            return list;
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"{path}: truncated episode cache file.", ex);
        }
    }

    private static void WriteRows(BinaryWriter w, List<float[]> rows)
    {
        w.Write(rows.Count);
        w.Write(rows.Count == 0 ? 0 : rows[0].Length);
        foreach (var row in rows)
            foreach (var v in row) w.Write(v);
    }

    private static void ReadRows(BinaryReader r, List<float[]> rows)
    {
        int n = r.ReadInt32(), d = r.ReadInt32();
        for (var i = 0; i < n; i++)
        {
            var row = new float[d];
            for (var j = 0; j < d; j++) row[j] = r.ReadSingle();
            rows.Add(row);
        }
    }
}
