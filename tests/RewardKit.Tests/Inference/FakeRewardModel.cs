using System.Text.Json;
using RewardKit.IO;
using RewardKit.Inference;

namespace RewardKit.Testing;

/// <summary>
/// A deterministic stand-in for a reward model: a hashed bag-of-words linear scorer. Token ids are word hashes
/// (mod 4096); the reward is the mean word weight plus a bias read from <c>rewardkit.json</c> ("fake_bias"), where
/// "helpful" weighs +2, "harmful" −2, "nan-reward" NaN and every other word a hash-derived weight in [−0.5, 0.5].
/// </summary>
public sealed class FakeRewardModel : IRewardModel
{
    public const int Vocabulary = 4096;
    public const int Separator = Vocabulary; // id between prompt and response
    readonly float _bias;
    int _forwards, _sequences, _maxBatch, _disposed;

    public FakeRewardModel(RewardModelMetadata metadata)
    {
        Metadata = metadata;
        if (metadata.Extra?.TryGetValue("fake_bias", out var b) == true) _bias = (float)b.GetDouble();
        if (metadata.Extra?.TryGetValue("fake_forward_ms", out var d) == true) ForwardDelay = TimeSpan.FromMilliseconds(d.GetDouble());
    }

    public RewardModelMetadata Metadata { get; }

    /// <summary>Sleeps this long per forward pass (a fixed per-pass cost, like a real model's).</summary>
    public TimeSpan ForwardDelay { get; set; }

    /// <summary>Called at the start of each forward pass (tests use it to block or fail).</summary>
    public Action<IReadOnlyList<int[]>>? OnForward { get; set; }

    public int Forwards => Volatile.Read(ref _forwards);
    public int SequencesScored => Volatile.Read(ref _sequences);
    public int MaxBatch => Volatile.Read(ref _maxBatch);
    public bool Disposed => Volatile.Read(ref _disposed) != 0;

    public static int TokenOf(string word)
    {
        var h = 2166136261u; // FNV-1a
        foreach (var c in word) { h ^= c; h *= 16777619u; }
        return (int)(h % Vocabulary);
    }

    public static float WeightOf(int token)
    {
        if (token == TokenOf("helpful")) return 2f;
        if (token == TokenOf("harmful")) return -2f;
        if (token == TokenOf("nan-reward")) return float.NaN; // a model that breaks on one input (tests of non-finite rewards)
        return ((token * 2654435761u) % 1001u) / 1000f - 0.5f;
    }

    public int[] Encode(string prompt, string response)
    {
        static IEnumerable<int> Words(string s) => s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => TokenOf(w.ToLowerInvariant()));
        var p = Words(prompt).ToList();
        var r = Words(response).ToList();
        var max = Metadata.MaxLength;
        if (r.Count + 1 >= max) r = r.GetRange(0, max - 1); // keep the response, drop the prompt
        var keep = Math.Min(p.Count, max - 1 - r.Count);
        return [.. p.GetRange(p.Count - keep, keep), Separator, .. r];
    }

    public void ScoreTokens(IReadOnlyList<int[]> sequences, Span<float> rewards, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Disposed, this);
        if (rewards.Length != sequences.Count) throw new ArgumentException("rewards and sequences differ in length");
        Interlocked.Increment(ref _forwards);
        Interlocked.Add(ref _sequences, sequences.Count);
        int seen;
        while ((seen = Volatile.Read(ref _maxBatch)) < sequences.Count && Interlocked.CompareExchange(ref _maxBatch, sequences.Count, seen) != seen) { }
        OnForward?.Invoke(sequences);
        if (ForwardDelay > TimeSpan.Zero) Thread.Sleep(ForwardDelay);
        for (var s = 0; s < sequences.Count; s++)
        {
            var seq = sequences[s];
            var sep = Array.IndexOf(seq, Separator);
            float sum = 0; var n = 0;
            for (var i = sep + 1; i < seq.Length; i++) { sum += WeightOf(seq[i]); n++; }
            rewards[s] = _bias + (n == 0 ? 0 : sum / MathF.Sqrt(n));
        }
    }

    public void Dispose() => Interlocked.Exchange(ref _disposed, 1);

    /// <summary>Writes a fake model folder (rewardkit.json plus a weights file) and returns its path.</summary>
    public static string WriteFolder(string directory, string name = "fake", double bias = 0, double? temperature = null,
        RewardHistogram? histogram = null, double mean = 0, double std = 1, double forwardMs = 0)
    {
        Directory.CreateDirectory(directory);
        var weights = Path.Combine(directory, "model.safetensors");
        File.WriteAllBytes(weights, System.Text.Encoding.UTF8.GetBytes($"fake weights {name} {bias}"));
        var metadata = new RewardModelMetadata
        {
            Name = name,
            Version = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(weights))),
            MaxLength = 64, RewardMean = mean, RewardStd = std, Temperature = temperature, RewardHistogram = histogram,
            Extra = new() { ["fake_bias"] = JsonSerializer.SerializeToElement(bias), ["fake_forward_ms"] = JsonSerializer.SerializeToElement(forwardMs) },
        };
        metadata.Save(directory);
        return directory;
    }

    /// <summary>The loader tests pass wherever the real GPT-2 loader goes.</summary>
    public static IRewardModel Load(string directory) => new FakeRewardModel(RewardModelMetadata.Load(directory));
}

/// <summary>A temporary folder deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rewardkit-test-" + Guid.NewGuid().ToString("N"));
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { } }
}
