using System.Text.Json;
using RewardKit.Data;

namespace RewardKit.Annotation;

/// <summary>What <see cref="AnnotationExport.Write"/> wrote.</summary>
/// <param name="Directory">The output folder.</param>
/// <param name="Pairs">Pairwise tasks with a winner (<c>pairs.jsonl</c>).</param>
/// <param name="Ties">Pairwise tasks judged a tie (<c>ties.jsonl</c>).</param>
/// <param name="Rankings">Ranking tasks (<c>rankings.jsonl</c>).</param>
/// <param name="Ratings">Rated responses (<c>ratings.jsonl</c>, one per response of each rating task).</param>
/// <param name="Labels">Every label (<c>annotations.jsonl</c>).</param>
/// <param name="Unlabelled">Ordinary tasks nobody has labelled yet (not exported).</param>
/// <param name="BelowK">Exported tasks with fewer than k labels.</param>
/// <param name="GoldLeftOut">Gold questions (kept out of the training files; their labels are in <c>annotations.jsonl</c>).</param>
public sealed record ExportSummary(string Directory, int Pairs, int Ties, int Rankings, int Ratings, int Labels, int Unlabelled, int BelowK, int GoldLeftOut)
{
    /// <summary>The training files written (those with at least one record), for <c>rewardkit train --data</c>.</summary>
    public IReadOnlyList<string> TrainingFiles { get; init; } = [];
}

/// <summary>
/// Writes the labels of an annotation database in the formats <c>rewardkit train</c> reads (see
/// <see cref="PreferenceReader"/>), each record naming its annotators:
/// <list type="bullet">
/// <item><c>pairs.jsonl</c>: one pair per pairwise task with a winner (<see cref="Consensus.Pairwise"/>), <c>margin</c> from
/// the strength of the votes, <c>weight</c> = agreement, <c>annotator</c> = the ids joined by commas, and the votes.</item>
/// <item><c>ties.jsonl</c>: pairwise tasks judged a tie, kept as ties: a ranking of the two responses with equal ranks,
/// which <c>train</c> reads as no pair (counted as a tie), never as a preference.</item>
/// <item><c>rankings.jsonl</c>: one ranking per ranking task (<see cref="Consensus.Ranking"/>; equal mean ranks tie).</item>
/// <item><c>ratings.jsonl</c>: one rated response per response of each rating task, the mean rating.</item>
/// <item><c>annotations.jsonl</c>: every label as given (gold questions included), and <c>summary.json</c>: the counts and the agreement report.</item>
/// </list>
/// Gold questions stay out of the training files. Every file is written to a temporary sibling and renamed into place; a
/// training file that would be empty is not written (and an old one of that name is removed).
/// </summary>
public static class AnnotationExport
{
    /// <summary>The source field of every exported record.</summary>
    public const string Source = "annotation";

    /// <summary>Exports <paramref name="store"/> into <paramref name="directory"/> (created when missing).</summary>
    public static ExportSummary Write(AnnotationStore store, string directory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var snapshot = store.Snapshot();
        Directory.CreateDirectory(directory);
        var byTask = snapshot.LabelsByTask;
        var labelled = snapshot.Tasks.Where(t => !t.IsGold && byTask[t.Id].Any()).ToList();
        var pairs = new List<PreferenceRecord>();
        var ties = new List<PreferenceRecord>();
        foreach (var task in labelled.Where(t => t.Mode == AnnotationMode.Pairwise))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = PairRecord(task, byTask[task.Id].ToList());
            (record is PreferencePair ? pairs : ties).Add(record);
        }
        var rankings = labelled.Where(t => t.Mode == AnnotationMode.Ranking).Select(t => RankingRecord(t, byTask[t.Id].ToList())).ToList<PreferenceRecord>();
        var ratings = labelled.Where(t => t.Mode == AnnotationMode.Rating).SelectMany(t => RatingRecords(t, byTask[t.Id].ToList())).ToList<PreferenceRecord>();

        var written = new List<string>();
        foreach (var (name, records) in new[] { ("pairs.jsonl", pairs), ("ties.jsonl", ties), ("rankings.jsonl", rankings), ("ratings.jsonl", ratings) })
            if (WriteRecords(Path.Combine(directory, name), records, cancellationToken) is { } path && name != "ties.jsonl") written.Add(path);
        WriteAtomically(Path.Combine(directory, "annotations.jsonl"), stream => WriteLabels(stream, snapshot));
        var summary = new ExportSummary(Path.GetFullPath(directory), pairs.Count, ties.Count, rankings.Count, ratings.Count, snapshot.Labels.Count,
            snapshot.Tasks.Count(t => !t.IsGold && !byTask[t.Id].Any()), labelled.Count(t => byTask[t.Id].Count() < snapshot.Settings.AnnotatorsPerTask),
            snapshot.Tasks.Count(t => t.IsGold)) { TrainingFiles = written };
        var report = AnnotationStatistics.Compute(snapshot);
        WriteAtomically(Path.Combine(directory, "summary.json"), stream =>
            JsonSerializer.Serialize(stream, new { export = summary, report }, SummaryJson));
        return summary;
    }

    static readonly JsonSerializerOptions SummaryJson = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    static string Ids(IEnumerable<AnnotationLabel> labels) => string.Join(',', labels.Select(l => l.AnnotatorId));

    static JsonElement Element<T>(T value) => JsonSerializer.SerializeToElement(value);

    static PreferenceRecord PairRecord(AnnotationTask task, List<AnnotationLabel> labels)
    {
        var consensus = Consensus.Pairwise(labels);
        // A vote names the record's responses: chosen / rejected in pairs.jsonl, A / B in ties.jsonl.
        string Preferred(PairChoice c) => c switch
        {
            PairChoice.Tie => "tie",
            _ when consensus.Choice == PairChoice.Tie => c.ToString(),
            _ => c == consensus.Choice ? "chosen" : "rejected",
        };
        var votes = Element(labels.Select(l => new Dictionary<string, object?>
        {
            ["annotator"] = l.AnnotatorId, ["preferred"] = Preferred(l.Answer.Choice!.Value), ["strength"] = l.Answer.Strength, ["reason"] = l.Reason,
        }).ToList());
        var extra = new Dictionary<string, JsonElement> { ["agreement"] = Element(consensus.Agreement), ["votes"] = votes };
        if (consensus.Choice == PairChoice.Tie)
        {
            extra = new Dictionary<string, JsonElement> { ["annotator"] = Element(Ids(labels)), ["agreement"] = Element(consensus.Agreement), ["votes"] = votes };
            return new RankedGroup
            {
                Id = task.Id, Category = task.Category, Source = Source, Prompt = task.Prompt, Responses = task.Responses, Ranks = [0, 0], Extra = extra,
            };
        }
        bool aWins = consensus.Choice == PairChoice.A;
        return new PreferencePair
        {
            Id = task.Id, Category = task.Category, Source = Source, Prompt = task.Prompt,
            Chosen = task.Responses[aWins ? 0 : 1], Rejected = task.Responses[aWins ? 1 : 0],
            Margin = Math.Round(consensus.Margin, 6), Weight = Math.Round(consensus.Agreement, 6), Annotator = Ids(labels), Extra = extra,
        };
    }

    static RankedGroup RankingRecord(AnnotationTask task, List<AnnotationLabel> labels)
    {
        var consensus = Consensus.Ranking(labels, task.Responses.Count);
        return new RankedGroup
        {
            Id = task.Id, Category = task.Category, Source = Source, Prompt = task.Prompt, Responses = task.Responses, Ranks = consensus.Ranks,
            Extra = new Dictionary<string, JsonElement>
            {
                ["annotator"] = Element(Ids(labels)),
                ["agreement"] = Element(Math.Round(consensus.Agreement, 6)),
                // Each annotator's ranking, 0 = best like "ranks".
                ["rankings"] = Element(labels.Select(l => new { annotator = l.AnnotatorId, ranks = l.Answer.Ranks!.Select(r => r - 1).ToArray(), reason = l.Reason }).ToList()),
            },
        };
    }

    static IEnumerable<RatedResponse> RatingRecords(AnnotationTask task, List<AnnotationLabel> labels)
    {
        var means = Consensus.MeanRatings(labels, task.Responses.Count);
        for (int i = 0; i < task.Responses.Count; i++)
        {
            int index = i;
            yield return new RatedResponse
            {
                Id = $"{task.Id}:{i}", Category = task.Category, Source = Source, Prompt = task.Prompt, Response = task.Responses[i],
                Rating = Math.Round(means[i], 6), Annotator = Ids(labels),
                Extra = new Dictionary<string, JsonElement>
                {
                    ["task_id"] = Element(task.Id),
                    ["ratings"] = Element(labels.ToDictionary(l => l.AnnotatorId, l => l.Answer.Ratings![index])),
                },
            };
        }
    }

    /// <summary>Writes <paramref name="records"/> atomically to <paramref name="path"/> and returns it; with none, removes the file and returns null.</summary>
    static string? WriteRecords(string path, List<PreferenceRecord> records, CancellationToken ct)
    {
        if (records.Count == 0)
        {
            File.Delete(path);
            return null;
        }
        WriteAtomically(path, stream =>
        {
            using var writer = new JsonlPreferenceWriter(stream);
            foreach (var r in records)
            {
                ct.ThrowIfCancellationRequested();
                writer.Write(r);
            }
        });
        return Path.GetFullPath(path);
    }

    static void WriteAtomically(string path, Action<Stream> write)
    {
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(new NonClosingStream(stream));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    static void WriteLabels(Stream stream, AnnotationSnapshot snapshot)
    {
        var tasks = snapshot.Tasks.ToDictionary(t => t.Id, StringComparer.Ordinal);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        foreach (var l in snapshot.Labels)
        {
            var task = tasks[l.TaskId];
            json.Reset(stream);
            json.WriteStartObject();
            json.WriteString("task_id", l.TaskId);
            json.WriteString("annotator", l.AnnotatorId);
            json.WriteString("mode", AnnotationModes.Name(task.Mode));
            json.WriteBoolean("gold", task.IsGold);
            if (l.Answer.Choice is { } c) { json.WriteString("choice", c == PairChoice.Tie ? "tie" : c.ToString()); json.WriteNumber("strength", l.Answer.Strength); }
            if (l.Answer.Ranks is { } ranks) { json.WritePropertyName("ranks"); JsonSerializer.Serialize(json, ranks); }
            if (l.Answer.Ratings is { } ratings) { json.WritePropertyName("ratings"); JsonSerializer.Serialize(json, ratings); }
            if (task.Gold is { } gold) json.WriteNumber("gold_score", GoldScoring.Score(task.Mode, l.Answer, gold));
            if (l.Reason is { } reason) json.WriteString("reason", reason);
            json.WriteNumber("seconds", Math.Round(l.Seconds, 3));
            json.WriteString("submitted_utc", l.SubmittedUtc.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteEndObject();
            json.Flush();
            stream.WriteByte((byte)'\n');
        }
    }

    /// <summary>Lets a writer that disposes its stream write into a stream we still have to flush to disk.</summary>
    sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override void WriteByte(byte value) => inner.WriteByte(value);
        protected override void Dispose(bool disposing)
        {
            inner.Flush();   // flush, never close: the caller owns the inner stream
            base.Dispose(disposing);
        }
    }
}
