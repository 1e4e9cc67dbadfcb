using System.Diagnostics;
using System.Text.Json;
using RewardKit.Data;
using RewardKit.Data.World;
using RewardKit.Inference;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Generation;

/// <summary>Options of <see cref="BestOfN.ChooseFile"/> (the flags of <c>rewardkit best-of-n --policy</c>).</summary>
public sealed record BestOfNOptions
{
    /// <summary>Responses sampled per prompt (<c>--n</c>); the reward model keeps the best. Default 4.</summary>
    public int N { get; init; } = 4;

    /// <summary>Sequences generated together. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>How the prompts file is read (<c>--skip-invalid</c>).</summary>
    public ReaderOptions Reader { get; init; } = ReaderOptions.Default;

    /// <summary>How tokens are sampled (sample s of prompt p has the seed of <c>generate --n</c>'s line for it).</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad flag and the fix.</summary>
    public BestOfNOptions Validate()
    {
        if (N < 1) throw new ArgumentException($"--n {N}: sample at least 1 response per prompt.", "--n");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size {BatchSize}: use a positive number.", "--batch-size");
        ArgumentNullException.ThrowIfNull(Reader);
        (Sampling ?? throw new ArgumentNullException(nameof(Sampling))).Validate();
        return this;
    }
}

/// <summary>The n sampled responses to one prompt with their proxy (reward-model) and, on world prompts, gold rewards.</summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="Responses">The n responses, sample 0..n−1.</param>
/// <param name="Proxy">The reward model's raw score of each response.</param>
/// <param name="Gold">The world's gold reward of each (<see cref="GoldJudge"/>), or null when the prompt is not a world prompt.</param>
public sealed record ScoredSamples(string Prompt, IReadOnlyList<string> Responses, IReadOnlyList<double> Proxy, IReadOnlyList<double>? Gold)
{
    /// <summary>The sample the reward model scores highest (the first of equal scores).</summary>
    public int Best
    {
        get
        {
            int best = 0;
            for (int i = 1; i < Proxy.Count; i++)
                if (Proxy[i] > Proxy[best]) best = i;
            return best;
        }
    }
}

/// <summary>What <see cref="BestOfN.ChooseFile"/> did.</summary>
/// <param name="Prompts">Prompts answered (one line each).</param>
/// <param name="N">Samples per prompt.</param>
/// <param name="Kl">The analytic KL of best-of-n to the policy, <see cref="BestOfN.AnalyticKl"/>(n), in nats.</param>
/// <param name="MeanReward">Mean reward-model score of the kept responses.</param>
/// <param name="MeanGoldReward">Mean gold reward of the kept responses when every prompt is a world prompt, else null.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="Read">What reading the prompts found.</param>
public sealed record BestOfNFileResult(int Prompts, int N, double Kl, double MeanReward, double? MeanGoldReward, TimeSpan Elapsed, PromptReadReport Read);

/// <summary>
/// Best-of-n sampling (rejection sampling against a reward model; Nakano et al. 2021, Gao et al. 2023): sample n responses
/// from a policy, keep the one the reward model scores highest. Its KL to the policy is log n − (n−1)/n nats
/// (<see cref="AnalyticKl"/>), and the expected reward of best-of-n for every n ≤ N follows from N samples without bias
/// (<see cref="ExpectedBest"/>).
/// </summary>
public static class BestOfN
{
    static readonly JsonWriterOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// KL(best-of-n ‖ policy) = log n − (n−1)/n nats: the analytic value for a continuous reward (no ties; Stiennon et al.
    /// 2020, appendix), 0 at n = 1.
    /// </summary>
    public static double AnalyticKl(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        return Math.Log(n) - (n - 1.0) / n;
    }

    /// <summary>
    /// The expected <paramref name="value"/> of the sample best-of-n keeps, over every n-subset of the N samples: with the
    /// samples sorted by <paramref name="proxy"/> (ascending, ties by index), the i-th (1-based) is the best of a random
    /// n-subset with probability C(i−1, n−1) / C(N, n). Unbiased for best-of-n of the distribution the samples came from.
    /// </summary>
    public static double ExpectedBest(IReadOnlyList<double> proxy, IReadOnlyList<double> value, int n)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        ArgumentNullException.ThrowIfNull(value);
        if (proxy.Count != value.Count) throw new ArgumentException($"{proxy.Count} proxy scores but {value.Count} values.", nameof(value));
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, proxy.Count);
        var order = Enumerable.Range(0, proxy.Count).OrderBy(i => proxy[i]).ThenBy(i => i).ToArray();
        double total = Binomial(proxy.Count, n), expected = 0;
        for (int rank = n; rank <= order.Length; rank++)   // rank = i, 1-based: fewer than n below it cannot make it the best
            expected += Binomial(rank - 1, n - 1) / total * value[order[rank - 1]];
        return expected;
    }

    static double Binomial(int n, int k)
    {
        double c = 1;
        for (int j = 1; j <= k; j++) c = c * (n - k + j) / j;
        return c;
    }

    /// <summary>
    /// Samples <paramref name="n"/> responses to each prompt with <paramref name="policy"/> (<see cref="PolicyGeneration.Sample"/>)
    /// and scores them with <paramref name="scorer"/> and, on world prompts, the gold judge.
    /// </summary>
    public static IReadOnlyList<ScoredSamples> SampleAndScore(Policy policy, RewardScorer scorer, IReadOnlyList<string> prompts, int n,
        SamplingOptions sampling, int batchSize = 32, WorkerPool? pool = null, IProgress<GenerationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        var responses = prompts.Select(_ => new string[n]).ToArray();
        var clock = Stopwatch.StartNew();
        long tokens = 0;
        foreach (var batch in PolicyGeneration.Sample(policy, prompts, n, sampling, batchSize, pool, cancellationToken))
        {
            for (int i = 0; i < batch.Rows.Count; i++)
                responses[batch.Rows[i].Prompt][batch.Rows[i].Sample] = policy.DecodeResponse(batch.Result.Tokens[i]);
            tokens += batch.Result.TokenCount;
            progress?.Report(new GenerationProgress(batch.PromptsDone, prompts.Count, tokens, clock.Elapsed));
        }
        var items = prompts.SelectMany((p, i) => responses[i].Select(r => new ScoringItem(p, r))).ToList();
        var scores = scorer.Score(items, cancellationToken);
        return [.. prompts.Select((p, i) => new ScoredSamples(p, responses[i], [.. scores.Skip(i * n).Take(n).Select(s => s.Raw)],
            GoldJudge.IsWorldPrompt(p) ? [.. responses[i].Select(r => GoldJudge.Judge(p, r).Reward)] : null))];
    }

    /// <summary>
    /// Best-of-n over a prompts file: writes one JSON line per prompt, <c>{"id"?, "prompt", "response", "reward", "sample",
    /// "n", "rewards", "gold_reward"?, "gold_kind"?}</c> (the kept response, its score, its sample index, every sample's
    /// score; gold fields on world prompts), to a temporary sibling renamed at the end.
    /// </summary>
    public static BestOfNFileResult ChooseFile(Policy policy, RewardScorer scorer, string promptsPath, string outputPath, BestOfNOptions options,
        WorkerPool? pool = null, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var (records, read) = PromptFile.Read(promptsPath, options.Reader, cancellationToken);
        var scored = SampleAndScore(policy, scorer, [.. records.Select(r => r.Prompt)], options.N, options.Sampling, options.BatchSize, pool, progress, cancellationToken);
        var temp = $"{outputPath}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                for (int i = 0; i < scored.Count; i++) WriteLine(stream, records[i], scored[i]);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, outputPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        double meanReward = scored.Count == 0 ? double.NaN : scored.Average(s => s.Proxy[s.Best]);
        double? meanGold = scored.Count > 0 && scored.All(s => s.Gold is not null) ? scored.Average(s => s.Gold![s.Best]) : null;
        return new BestOfNFileResult(scored.Count, options.N, AnalyticKl(options.N), meanReward, meanGold, clock.Elapsed, read);
    }

    static void WriteLine(Stream stream, PromptRecord record, ScoredSamples s)
    {
        int best = s.Best;
        using (var w = new Utf8JsonWriter(stream, Compact))
        {
            w.WriteStartObject();
            if (record.Id is not null) w.WriteString("id", record.Id);
            w.WriteString("prompt", record.Prompt);
            w.WriteString("response", s.Responses[best]);
            w.WriteNumber("reward", Math.Round(s.Proxy[best], 6));
            w.WriteNumber("sample", best);
            w.WriteNumber("n", s.Responses.Count);
            w.WriteStartArray("rewards");
            foreach (var r in s.Proxy) w.WriteNumberValue(Math.Round(r, 6));
            w.WriteEndArray();
            if (s.Gold is not null)
            {
                w.WriteNumber("gold_reward", s.Gold[best]);
                w.WriteString("gold_kind", GoldJudge.Judge(s.Prompt, s.Responses[best]).Kind);
            }
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
    }
}
