using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RewardKit.Distributed;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Inference;

/// <summary>Progress of a <see cref="BatchScoring"/> run.</summary>
/// <param name="Rows">Rows written to the output so far (including rows kept from a previous run).</param>
/// <param name="ResumedRows">Rows found complete in the output when the run started (not rescored).</param>
/// <param name="BytesRead">Input bytes consumed so far.</param>
/// <param name="TotalBytes">Input size in bytes.</param>
/// <param name="RowsPerSecond">Rows scored per second in this run.</param>
public readonly record struct BatchScoringProgress(long Rows, long ResumedRows, long BytesRead, long TotalBytes, double RowsPerSecond);

/// <summary>The outcome of a <see cref="BatchScoring"/> run.</summary>
/// <param name="ScoredRows">Rows scored in this run.</param>
/// <param name="ResumedRows">Rows already in the output from a previous run (not rescored).</param>
/// <param name="TruncatedBytes">Bytes of a partial last line removed from the output before resuming.</param>
/// <param name="Elapsed">Wall time of this run.</param>
/// <param name="RowsPerSecond">Rows scored per second in this run.</param>
public sealed record BatchScoringResult(long ScoredRows, long ResumedRows, long TruncatedBytes, TimeSpan Elapsed, double RowsPerSecond);

/// <summary>
/// Scores a JSONL file of any size into another, streaming and resumable. Each non-blank input line is an object with
/// <c>prompt</c> and <c>response</c> (adds <c>reward</c>, <c>normalized</c>, <c>calibrated</c>) or with <c>prompt</c>,
/// <c>chosen</c> and <c>rejected</c> (adds <c>reward_chosen</c>, <c>reward_rejected</c> and <c>p_chosen_preferred</c>);
/// every other field is copied; an ensemble adds the members' standard deviation (<c>std</c>, or <c>std_chosen</c> and
/// <c>std_rejected</c>). Each input row gives exactly one output line, so a killed run resumes by counting the
/// complete lines already written, dropping a partial last line and skipping that many input rows.
/// </summary>
public static class BatchScoring
{
    /// <summary>Scores <paramref name="inputPath"/> into <paramref name="outputPath"/>, resuming a previous run.</summary>
    /// <param name="scorer">The scorer.</param>
    /// <param name="inputPath">JSONL input.</param>
    /// <param name="outputPath">JSONL output; appended to when it holds rows from a killed run.</param>
    /// <param name="chunkRows">Rows scored together (and flushed together), default 256.</param>
    /// <param name="progress">Receives progress after each chunk.</param>
    /// <param name="cancellationToken">Stops after the current chunk; the output stays resumable.</param>
    public static Task<BatchScoringResult> RunAsync(RewardScorer scorer, string inputPath, string outputPath, int chunkRows = 256,
        IProgress<BatchScoringProgress>? progress = null, CancellationToken cancellationToken = default) =>
        RunAsync(SingleProcessCommunicator.Instance, scorer, inputPath, outputPath, chunkRows, progress, cancellationToken);

    /// <summary>
    /// Scores <paramref name="inputPath"/> into <paramref name="outputPath"/> with every rank of <paramref name="communicator"/>
    /// (each rank calls this with the same arguments and reads the same input file). The rows after those already written go
    /// in rounds of <paramref name="chunkRows"/> × ranks: rank r scores the r-th chunk of each round, rank 0 gathers the
    /// round's lines and appends them in input order, so the output is always a prefix of the full result and a killed job
    /// resumes (with any number of ranks) exactly like a single-process run. Only rank 0 touches the output and reports
    /// <paramref name="progress"/>; every rank returns the same counts.
    /// </summary>
    /// <param name="communicator">The job's ranks (<see cref="SingleProcessCommunicator.Instance"/> for one process).</param>
    /// <param name="scorer">This rank's scorer.</param>
    /// <param name="inputPath">JSONL input, the same file on every rank.</param>
    /// <param name="outputPath">JSONL output, written by rank 0 only.</param>
    /// <param name="chunkRows">Rows one rank scores per round (and rank 0 flushes per rank), default 256.</param>
    /// <param name="progress">Receives progress on rank 0 after each round.</param>
    /// <param name="cancellationToken">Stops after the current round; the output stays resumable.</param>
    public static async Task<BatchScoringResult> RunAsync(ICommunicator communicator, RewardScorer scorer, string inputPath, string outputPath,
        int chunkRows = 256, IProgress<BatchScoringProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        ArgumentNullException.ThrowIfNull(scorer);
        if (chunkRows < 1) throw new ArgumentOutOfRangeException(nameof(chunkRows), chunkRows, "use at least 1 row per chunk.");
        if (!File.Exists(inputPath)) throw new FileNotFoundException($"{inputPath}: input file not found.", inputPath);
        if (Path.GetFullPath(inputPath) == Path.GetFullPath(outputPath))
            throw new ArgumentException($"{outputPath}: the output must not be the input file.", nameof(outputPath));
        communicator.RequireSameEverywhere($"the size of {inputPath}", new FileInfo(inputPath).Length.ToString(CultureInfo.InvariantCulture),
            "every rank must read the same input file: copy it to the same path on every machine.");

        bool root = communicator.IsRoot();
        var (resumed, truncated) = root ? PrepareOutput(outputPath) : (0, 0);
        resumed = long.Parse(communicator.BroadcastString(root ? resumed.ToString(CultureInfo.InvariantCulture) : null), CultureInfo.InvariantCulture);
        var clock = Stopwatch.StartNew();
        using var input = new FileStream(inputPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var reader = new StreamReader(input, Encoding.UTF8);
        await using var output = root ? new FileStream(outputPath, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16) : null;

        long lineNumber = 0, row = 0, scored = 0;
        int roundRows = checked(chunkRows * communicator.Size);
        var round = new List<(string Line, long LineNumber)>(roundRows);
        var mine = new List<(JsonObject Record, long Line, Kind Kind)>(chunkRows);
        bool ended = false;
        while (!ended)
        {
            while (round.Count < roundRows)
            {
                var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                if (line is null) { ended = true; break; }
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                if (++row <= resumed) continue;
                round.Add((line, lineNumber));
            }
            if (round.Count == 0) break;
            int first = Math.Min(round.Count, communicator.Rank * chunkRows), last = Math.Min(round.Count, first + chunkRows);
            for (int i = first; i < last; i++) mine.Add(Parse(round[i].Line, inputPath, round[i].LineNumber));
            var text = mine.Count == 0 ? "" : await ScoreChunkAsync(scorer, mine, cancellationToken).ConfigureAwait(false);
            var blocks = communicator.Gather(Encoding.UTF8.GetBytes(text));
            if (output is not null)
            {
                // One write per rank's chunk, then flush: a kill leaves complete lines plus at most one partial line.
                foreach (var block in blocks) await output.WriteAsync(block, cancellationToken).ConfigureAwait(false);
                await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            scored += round.Count;
            round.Clear();
            mine.Clear();
            var rate = scored / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            if (root) progress?.Report(new BatchScoringProgress(resumed + scored, resumed, input.Position, input.Length, rate));
        }
        if (row < resumed)
            throw new InvalidDataException($"{outputPath}: holds {resumed} rows but {inputPath} has only {row}; the output belongs to another input, delete it or choose another --out.");
        clock.Stop();
        return new BatchScoringResult(scored, resumed, truncated, clock.Elapsed, scored / Math.Max(clock.Elapsed.TotalSeconds, 1e-9));
    }

    /// <summary>
    /// Counts the complete lines of an existing output and truncates a partial last line (a run killed mid-write);
    /// returns (complete lines, bytes removed). A missing output is created empty.
    /// </summary>
    public static (long CompleteLines, long TruncatedBytes) PrepareOutput(string outputPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(outputPath));
        if (directory is not null) Directory.CreateDirectory(directory);
        using var stream = new FileStream(outputPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        long lines = 0, lastNewline = -1, position = 0;
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            for (var i = 0; i < read; i++)
                if (buffer[i] == (byte)'\n') { lines++; lastNewline = position + i; }
            position += read;
        }
        var keep = lastNewline + 1;
        var truncated = stream.Length - keep;
        if (truncated > 0) stream.SetLength(keep);
        return (lines, truncated);
    }

    enum Kind { Single, Pair }

    static (JsonObject, long, Kind) Parse(string line, string path, long lineNumber)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(line, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }); }
        catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNumber}: invalid JSON ({e.Message}); each line must be one JSON object with each key once.", e); }
        var utf8 = line.Contains("\\u", StringComparison.Ordinal) ? Encoding.UTF8.GetBytes(line) : [];
        if (Data.JsonTextChecks.FindLoneSurrogate(utf8) is >= 0 and var at)
            throw new InvalidDataException($"{path}:{lineNumber}: the line holds the lone surrogate escape {Data.JsonTextChecks.EscapeAt(utf8, at)} (half of a UTF-16 pair, not a character); re-export the data as valid Unicode.");
        if (node is not JsonObject record)
            throw new InvalidDataException($"{path}:{lineNumber}: expected a JSON object with \"prompt\" and \"response\" (or \"chosen\" and \"rejected\").");
        RequireString(record, "prompt", path, lineNumber);
        if (record.ContainsKey("response"))
        {
            RequireString(record, "response", path, lineNumber);
            return (record, lineNumber, Kind.Single);
        }
        if (record.ContainsKey("chosen") || record.ContainsKey("rejected"))
        {
            RequireString(record, "chosen", path, lineNumber);
            RequireString(record, "rejected", path, lineNumber);
            return (record, lineNumber, Kind.Pair);
        }
        throw new InvalidDataException($"{path}:{lineNumber}: no \"response\" field (nor \"chosen\"/\"rejected\"); add the response text to score.");
    }

    static void RequireString(JsonObject record, string field, string path, long lineNumber)
    {
        if (record[field] is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
            throw new InvalidDataException($"{path}:{lineNumber}: field \"{field}\" must be a string (use \"\" for an empty {field}).");
    }

    /// <summary>The output lines of <paramref name="chunk"/>, each ending in a newline.</summary>
    static async Task<string> ScoreChunkAsync(RewardScorer scorer, List<(JsonObject Record, long Line, Kind Kind)> chunk, CancellationToken cancellationToken)
    {
        var items = new List<ScoringItem>(chunk.Count * 2);
        foreach (var (record, _, kind) in chunk)
        {
            var prompt = (string)record["prompt"]!;
            if (kind == Kind.Single) items.Add(new ScoringItem(prompt, (string)record["response"]!));
            else
            {
                items.Add(new ScoringItem(prompt, (string)record["chosen"]!));
                items.Add(new ScoringItem(prompt, (string)record["rejected"]!));
            }
        }
        var (rewards, std) = await scorer.ScoreRawWithStdAsync(items, cancellationToken).ConfigureAwait(false);   // std: ensembles only
        var k = 0;
        var text = new StringBuilder();
        foreach (var (record, _, kind) in chunk)
        {
            if (kind == Kind.Single)
            {
                if (std is not null) record["std"] = std[k];
                var score = scorer.ToScore(rewards[k++]);
                record["reward"] = score.Raw;
                record["normalized"] = score.Normalized;
                record["calibrated"] = score.Calibrated;
            }
            else
            {
                if (std is not null) (record["std_chosen"], record["std_rejected"]) = (std[k], std[k + 1]);
                double chosen = rewards[k++], rejected = rewards[k++];
                record["reward_chosen"] = chosen;
                record["reward_rejected"] = rejected;
                record["p_chosen_preferred"] = Activations.Sigmoid((chosen - rejected) / scorer.Temperature);
            }
            text.Append(record.ToJsonString()).Append('\n');
        }
        return text.ToString();
    }
}
