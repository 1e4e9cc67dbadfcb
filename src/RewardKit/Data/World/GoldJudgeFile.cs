using System.Text.Json;

namespace RewardKit.Data.World;

/// <summary>The outcome of <see cref="GoldJudgeFile.Judge"/>.</summary>
/// <param name="Records">Records written (every accepted input record, in input order).</param>
/// <param name="RecordKind">What the records are: "generations", "pairs", "rankings" or "ratings" ("records" for an empty file).</param>
/// <param name="Responses">Responses judged (their prompt is a world prompt).</param>
/// <param name="UnknownPrompts">Responses not judged because their prompt is not a world prompt (written with a null reward and kind <see cref="GoldJudge.UnknownPromptKind"/>).</param>
/// <param name="MeanReward">Mean gold reward of the judged responses (NaN when there are none).</param>
/// <param name="Kinds">How many judged responses got each kind, most frequent first.</param>
/// <param name="InputGold">Judged responses whose record already carried a gold reward (world files do).</param>
/// <param name="InputGoldDiffers">Of those, how many carried a different value (replaced by the judge's).</param>
/// <param name="Report">What the read found: records read, invalid records skipped (with --skip-invalid), warnings.</param>
public sealed record GoldJudgeFileResult(long Records, string RecordKind, long Responses, long UnknownPrompts, double MeanReward,
    IReadOnlyList<KeyValuePair<string, long>> Kinds, long InputGold, long InputGoldDiffers, ReadReport Report);

/// <summary>
/// Scores a JSONL file with <see cref="GoldJudge"/>: each record is copied field by field, in input order, with the
/// judge's fields added: <c>gold_reward</c> and <c>gold_kind</c> for records with <c>prompt</c> and <c>response</c>
/// (generations, ratings); <c>gold_reward_chosen</c>, <c>gold_reward_rejected</c>, <c>gold_kind_chosen</c> and
/// <c>gold_kind_rejected</c> for pairs; <c>gold_rewards</c> and <c>gold_kinds</c> (arrays) for rankings. A field of
/// the same name already in the record (world files carry gold rewards) is replaced where it stands; the others
/// are appended. A response to a prompt the world does not write gets a null reward and kind
/// <see cref="GoldJudge.UnknownPromptKind"/>; a file with no world prompt at all is an error.
/// Records are read by <see cref="PreferenceReader"/> (FILE:LINE errors; <see cref="ReaderOptions.SkipInvalid"/>
/// skips and counts bad lines); pairs, rankings and ratings are checked as every reader of them checks them. The
/// output is written to a temporary file beside it and renamed into place, so it is never seen half-written.
/// </summary>
/// <example><code>
/// var result = GoldJudgeFile.Judge("generations.jsonl", "judged.jsonl");
/// Console.WriteLine($"{result.Responses} judged, mean gold reward {result.MeanReward:F3}");
/// </code></example>
public static class GoldJudgeFile
{
    enum Shape { Generations, Pairs, Rankings, Ratings }

    /// <summary>One record: its line, its fields as read, its prompt and response texts, and the gold rewards it carried.</summary>
    sealed record Item(long Line, List<KeyValuePair<string, JsonElement>> Fields, Shape Shape, string Prompt, IReadOnlyList<string> Responses, IReadOnlyList<double?> InputGold);

    /// <summary>Judges every response of <paramref name="input"/> into <paramref name="output"/> (see the class summary).</summary>
    /// <param name="input">A JSONL file of generations (<c>prompt</c>, <c>response</c>), pairs, rankings or ratings.</param>
    /// <param name="output">The JSONL file to write (replaced atomically).</param>
    /// <param name="options">Reader options; <see cref="ReaderOptions.SkipInvalid"/> skips bad records (counted in the result's report).</param>
    /// <param name="progress">Receives the fraction of the input read.</param>
    /// <param name="cancellationToken">Stops the run; the output is then left as it was.</param>
    public static GoldJudgeFileResult Judge(string input, string output, ReaderOptions? options = null, IProgress<double>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentException.ThrowIfNullOrEmpty(output);
        if (string.Equals(Path.GetFullPath(input), Path.GetFullPath(output), StringComparison.Ordinal))
            throw new ArgumentException($"--out {output} is the input file; write to another file", nameof(output));
        foreach (var (path, flag) in new[] { (input, "--data"), (output, "--out") })
            if (PreferenceReader.ContainerOf(path) == FileContainer.Csv)
                throw new ArgumentException($"{flag} {path}: the gold judge reads and writes JSONL; convert a CSV first (rewardkit data convert --in F.csv --out F.jsonl)");
        var reader = new PreferenceReader(input, options);
        var full = Path.GetFullPath(output);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = $"{full}.{Guid.NewGuid():N}.tmp";
        try
        {
            var result = Write(reader, temp, input, progress, cancellationToken);
            File.Move(temp, full, overwrite: true);
            return result;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    static GoldJudgeFileResult Write(PreferenceReader reader, string temp, string input, IProgress<double>? progress, CancellationToken ct)
    {
        var tally = new Tally();
        var length = Math.Max(1, new FileInfo(input).Length);
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        using (var json = new Utf8JsonWriter(stream, PreferenceWriter.JsonOptions))
        {
            foreach (var item in Read(reader, ct))
            {
                var verdicts = item.Responses.Select(r => GoldJudge.TryJudge(item.Prompt, r, out var v) ? v : null).ToList();
                tally.Add(item, verdicts);
                json.Reset(stream);
                WriteRecord(json, item, verdicts);
                json.Flush();
                stream.WriteByte((byte)'\n');
                if (tally.Records % 1024 == 0) progress?.Report((double)reader.BytesRead / length);
            }
            stream.Flush(flushToDisk: true);
        }
        progress?.Report(1);
        if (tally.Judged == 0 && tally.Unknown > 0)
            throw new InvalidDataException($"{input}: none of its prompts is a prompt of the built-in world (line {tally.FirstUnknownLine}: \"{Shorten(tally.FirstUnknownPrompt!)}\"); " +
                "the gold judge scores answers to world prompts only (rewardkit data generate), so nothing was written");
        return tally.Result(reader.Report);
    }

    /// <summary>The records of the file, each as fields plus texts; the first record fixes the shape the rest must have.</summary>
    static IEnumerable<Item> Read(PreferenceReader reader, CancellationToken ct)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var warnings = new List<string>();
        Shape? shape = null;
        return reader.ReadJsonlObjects((fields, line) =>
        {
            if (!fields.Any(f => f.Key is "response" or "chosen" or "rejected" or "responses" or "ranks" or "rating"))
                throw new RecordException("response", "record has no 'response' (generations, ratings), 'chosen'/'rejected' (pairs) or 'responses' (rankings); the gold judge scores responses");
            var item = IsGeneration(fields) ? Generation(fields, line) : FromRecord(fields, line, reader.Accept(fields, line, ids, warnings));
            if (item.Shape == Shape.Generations) reader.Report.RecordsRead++;
            shape ??= item.Shape;
            if (item.Shape != shape)
                throw new RecordException(null, $"record holds {Describe(item.Shape)} but the file holds {Describe(shape.Value)} (from its first record); put each kind of record in its own file");
            return item;
        }, ct);
    }

    static string Describe(Shape shape) => shape switch
    {
        Shape.Generations => "a generation (prompt, response)",
        Shape.Pairs => "a pair (prompt, chosen, rejected)",
        Shape.Rankings => "a ranking (prompt, responses, ranks)",
        _ => "a rating (prompt, response, rating)",
    };

    /// <summary>A generation: <c>response</c> without <c>rating</c> (a rating goes through the preference reader).</summary>
    static bool IsGeneration(List<KeyValuePair<string, JsonElement>> fields) =>
        fields.Any(f => f.Key == "response") && !fields.Any(f => f.Key is "rating" or "chosen" or "rejected" or "responses" or "ranks");

    static Item Generation(List<KeyValuePair<string, JsonElement>> fields, long line)
    {
        var map = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (k, v) in fields)
            if (!map.TryAdd(k, v)) throw new RecordException(k, $"field '{k}' appears twice; keep one");
        var (prompt, _) = RecordParser.TextOrMessages(map, "prompt", required: true);
        var response = RecordParser.RequiredString(map, "response");
        double? gold = map.TryGetValue("gold_reward", out var g) && g.ValueKind == JsonValueKind.Number ? g.GetDouble() : null;
        return new Item(line, fields, Shape.Generations, prompt!, [response], [gold]);
    }

    static Item FromRecord(List<KeyValuePair<string, JsonElement>> fields, long line, PreferenceRecord record) => record switch
    {
        PreferencePair p => new Item(line, fields, Shape.Pairs, p.Prompt, [p.Chosen, p.Rejected], [p.GoldChosen, p.GoldRejected]),
        RankedGroup g => new Item(line, fields, Shape.Rankings, g.Prompt, g.Responses,
            g.GoldRewards is { } gold ? gold.Select(x => (double?)x).ToList() : g.Responses.Select(_ => (double?)null).ToList()),
        RatedResponse r => new Item(line, fields, Shape.Ratings, r.Prompt, [r.Response], [r.GoldReward]),
        _ => throw new ArgumentOutOfRangeException(nameof(record)),
    };

    /// <summary>The judge's fields of a record, by name, in the order they are appended.</summary>
    static List<(string Name, Action<Utf8JsonWriter> Write)> JudgeFields(Item item, IReadOnlyList<GoldVerdict?> v)
    {
        static void Reward(Utf8JsonWriter w, GoldVerdict? x) { if (x is null) w.WriteNullValue(); else w.WriteNumberValue(x.Reward); }
        static void Kind(Utf8JsonWriter w, GoldVerdict? x) => w.WriteStringValue(x?.Kind ?? GoldJudge.UnknownPromptKind);
        return item.Shape switch
        {
            Shape.Pairs =>
            [
                ("gold_reward_chosen", w => Reward(w, v[0])), ("gold_reward_rejected", w => Reward(w, v[1])),
                ("gold_kind_chosen", w => Kind(w, v[0])), ("gold_kind_rejected", w => Kind(w, v[1])),
            ],
            Shape.Rankings =>
            [
                ("gold_rewards", w => { w.WriteStartArray(); foreach (var x in v) Reward(w, x); w.WriteEndArray(); }),
                ("gold_kinds", w => { w.WriteStartArray(); foreach (var x in v) Kind(w, x); w.WriteEndArray(); }),
            ],
            _ => [("gold_reward", w => Reward(w, v[0])), ("gold_kind", w => Kind(w, v[0]))],
        };
    }

    /// <summary>The record's fields in input order, the judge's replacing fields of the same name, the rest appended.</summary>
    static void WriteRecord(Utf8JsonWriter w, Item item, IReadOnlyList<GoldVerdict?> verdicts)
    {
        var added = JudgeFields(item, verdicts);
        var written = new HashSet<string>(StringComparer.Ordinal);
        w.WriteStartObject();
        foreach (var (name, value) in item.Fields)
        {
            w.WritePropertyName(name);
            if (added.FirstOrDefault(a => a.Name == name) is { Write: { } write } && written.Add(name)) write(w);
            else value.WriteTo(w);
        }
        foreach (var (name, write) in added)
            if (written.Add(name))
            {
                w.WritePropertyName(name);
                write(w);
            }
        w.WriteEndObject();
    }

    static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";

    /// <summary>Counts for the result.</summary>
    sealed class Tally
    {
        readonly Dictionary<string, long> _kinds = new(StringComparer.Ordinal);
        double _sum;
        long _inputGold, _differs;

        public long Records { get; private set; }
        public string Kind { get; private set; } = "records";
        public long Judged { get; private set; }
        public long Unknown { get; private set; }
        public long FirstUnknownLine { get; private set; }
        public string? FirstUnknownPrompt { get; private set; }

        public void Add(Item item, IReadOnlyList<GoldVerdict?> verdicts)
        {
            Records++;
            Kind = item.Shape.ToString().ToLowerInvariant();
            for (var i = 0; i < verdicts.Count; i++)
            {
                if (verdicts[i] is not { } v)
                {
                    Unknown++;
                    if (FirstUnknownPrompt is null) (FirstUnknownPrompt, FirstUnknownLine) = (item.Prompt, item.Line);
                    continue;
                }
                Judged++;
                _sum += v.Reward;
                _kinds[v.Kind] = _kinds.GetValueOrDefault(v.Kind) + 1;
                if (item.InputGold[i] is { } gold)
                {
                    _inputGold++;
                    if (Math.Abs(gold - v.Reward) > 1e-9) _differs++;
                }
            }
        }

        public GoldJudgeFileResult Result(ReadReport report) => new(Records, Kind, Judged, Unknown, Judged == 0 ? double.NaN : _sum / Judged,
            _kinds.OrderByDescending(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal).ToList(), _inputGold, _differs, report);
    }
}
