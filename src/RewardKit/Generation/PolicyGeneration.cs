using System.Diagnostics;
using System.Text;
using System.Text.Json;
using RewardKit.Data;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Generation;

/// <summary>Options of <see cref="PolicyGeneration.GenerateFile"/> (the flags of <c>rewardkit generate</c>).</summary>
public sealed record GenerateFileOptions
{
    /// <summary>Responses per prompt (<c>--n</c>), each with its own seed. Default 1.</summary>
    public int SamplesPerPrompt { get; init; } = 1;

    /// <summary>Sequences generated together (prompts × samples are cut into batches of this size). Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Write each response token's log-probability (<c>--logprobs</c>). Default false.</summary>
    public bool IncludeLogProbs { get; init; }

    /// <summary>How the prompts file is read (<c>--skip-invalid</c>).</summary>
    public ReaderOptions Reader { get; init; } = ReaderOptions.Default;

    /// <summary>How tokens are picked.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad flag and the fix.</summary>
    public GenerateFileOptions Validate()
    {
        if (SamplesPerPrompt < 1) throw new ArgumentException($"--n {SamplesPerPrompt}: generate at least 1 response per prompt.", "--n");
        if (BatchSize < 1) throw new ArgumentException($"--batch-size {BatchSize}: use a positive number.", "--batch-size");
        ArgumentNullException.ThrowIfNull(Reader);
        (Sampling ?? throw new ArgumentNullException(nameof(Sampling))).Validate();
        return this;
    }
}

/// <summary>Where a file generation is.</summary>
/// <param name="PromptsDone">Prompts whose responses are written.</param>
/// <param name="PromptsTotal">Prompts in the file.</param>
/// <param name="Tokens">Tokens generated so far.</param>
/// <param name="Elapsed">Time since the generation started.</param>
public sealed record GenerationProgress(int PromptsDone, int PromptsTotal, long Tokens, TimeSpan Elapsed)
{
    /// <summary>Generated tokens per second so far.</summary>
    public double TokensPerSecond => Tokens / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>What <see cref="PolicyGeneration.GenerateFile"/> did.</summary>
/// <param name="Prompts">Prompts generated for.</param>
/// <param name="Responses">Lines written (prompts × samples).</param>
/// <param name="Tokens">Tokens generated.</param>
/// <param name="TruncatedPrompts">Prompts cut from the left to leave room for the new tokens in n_positions.</param>
/// <param name="StoppedAtEos">Responses that ended with the end-of-sequence token.</param>
/// <param name="Elapsed">Wall time of the generation.</param>
/// <param name="Read">What reading the prompts found (skipped records, warnings, merged duplicates).</param>
public sealed record GenerateFileResult(int Prompts, long Responses, long Tokens, long TruncatedPrompts, long StoppedAtEos, TimeSpan Elapsed, PromptReadReport Read)
{
    /// <summary>Generated tokens per second.</summary>
    public double TokensPerSecond => Tokens / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Generates responses to a prompts file with a <see cref="Policy"/> and writes them as JSON Lines, one line per
/// response: <c>{"id"?, "prompt", "response", "tokens", "finish_reason", "sample", "logprobs"?}</c>, in the order of the
/// prompts, sample 0..n−1 of each. <c>tokens</c> counts the generated tokens (EOS included when the response stopped
/// on it: <c>finish_reason</c> "eos"; otherwise "length"), and <c>logprobs</c> has one entry per token. Each response's
/// seed comes from the run's seed, the prompt's index and the sample (<see cref="SamplingOptions.RowSeed"/>), so the file
/// is the same for any batch size or thread count. The output is written to a temporary sibling and renamed at the end.
/// </summary>
public static class PolicyGeneration
{
    static readonly JsonWriterOptions Compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Generates for every prompt of <paramref name="promptsPath"/> into <paramref name="outputPath"/>.</summary>
    public static GenerateFileResult GenerateFile(Policy policy, string promptsPath, string outputPath, GenerateFileOptions options,
        WorkerPool? pool = null, IProgress<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int budget = policy.Model.Config.Positions - options.Sampling.MaxNewTokens;
        if (budget < 1)
            throw new ArgumentException($"--max-new-tokens {options.Sampling.MaxNewTokens} leaves no room for a prompt in the model's n_positions = {policy.Model.Config.Positions}; use at most {policy.Model.Config.Positions - 1}.", "--max-new-tokens");
        var (records, read) = PromptFile.Read(promptsPath, options.Reader, cancellationToken);
        var clock = Stopwatch.StartNew();
        var generator = new TokenGenerator(policy.Model, pool);
        long truncated = 0, tokens = 0, responses = 0, eos = 0;
        var prompts = new int[records.Count][];
        for (int i = 0; i < prompts.Length; i++)
        {
            prompts[i] = policy.EncodePrompt(records[i].Prompt, budget, out bool cut);
            if (cut) truncated++;
        }
        int n = options.SamplesPerPrompt;
        var temp = $"{outputPath}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                for (long start = 0; start < (long)prompts.Length * n; start += options.BatchSize)
                {
                    int count = (int)Math.Min(options.BatchSize, (long)prompts.Length * n - start);
                    var rows = Enumerable.Range(0, count).Select(i => (Prompt: (int)((start + i) / n), Sample: (int)((start + i) % n))).ToArray();
                    var result = generator.Generate([.. rows.Select(r => prompts[r.Prompt])], options.Sampling,
                        [.. rows.Select(r => SamplingOptions.RowSeed(options.Sampling.Seed, r.Prompt, r.Sample))], cancellationToken);
                    for (int i = 0; i < count; i++)
                    {
                        WriteLine(stream, records[rows[i].Prompt], rows[i].Sample, policy.DecodeResponse(result.Tokens[i]), result.Tokens[i].Length,
                            result.Finish[i], options.IncludeLogProbs ? result.LogProbs[i] : null);
                        if (result.Finish[i] == FinishReason.Eos) eos++;
                    }
                    tokens += result.TokenCount;
                    responses += count;
                    int done = (int)((start + count) / n);
                    progress?.Report(new GenerationProgress(done, prompts.Length, tokens, clock.Elapsed));
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, outputPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return new GenerateFileResult(prompts.Length, responses, tokens, truncated, eos, clock.Elapsed, read);
    }

    static void WriteLine(Stream stream, PromptRecord record, int sample, string response, int tokens, FinishReason finish, float[]? logProbs)
    {
        using (var w = new Utf8JsonWriter(stream, Compact))
        {
            w.WriteStartObject();
            if (record.Id is not null) w.WriteString("id", record.Id);
            w.WriteString("prompt", record.Prompt);
            w.WriteString("response", response);
            w.WriteNumber("tokens", tokens);
            w.WriteString("finish_reason", finish == FinishReason.Eos ? "eos" : "length");
            w.WriteNumber("sample", sample);
            if (logProbs is not null)
            {
                w.WriteStartArray("logprobs");
                foreach (float lp in logProbs) w.WriteNumberValue(Math.Round(lp, 6));
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
    }
}
