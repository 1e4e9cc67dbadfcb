using RewardKit.Data;

namespace RewardKit.Tests.DataFormats;

/// <summary>
/// Seeded fuzzing of the record reader: over a thousand hostile mutations of valid JSONL records. Each mutated record
/// is read alone (accepted, or refused with an <see cref="InvalidDataException"/> naming FILE:LINE) and all together
/// with --skip-invalid (every refusal counted with its line); any other exception fails the test. Every record that is
/// accepted, mutated or not, round-trips through canonical JSONL and CSV unchanged.
/// </summary>
public sealed class RecordFuzzTests : IDisposable
{
    readonly DataFiles _files = new();
    public void Dispose() => _files.Dispose();

    const int Seed = 24;
    const int ValidPerFormat = 100;
    const int MutatedPerFormat = 350;

    [Fact]
    public void Over_a_thousand_mutated_records_are_accepted_or_refused_by_line_and_the_accepted_ones_round_trip()
    {
        var fuzz = new HostileJson(Seed);
        long mutated = 0, acceptedAlone = 0, refusedAlone = 0;
        foreach (var format in HostileJson.Formats)
        {
            var valid = Enumerable.Range(0, ValidPerFormat).Select(_ => fuzz.ValidRecord(format)).ToList();
            var validPath = _files.Write(string.Join("\n", valid) + "\n");
            Assert.Equal(valid.Count, DataFiles.ReadAll(validPath).Count);
            AssertRoundTrips(validPath, format);

            var lines = Enumerable.Range(0, MutatedPerFormat).Select(i => fuzz.Mutate(valid[i % valid.Count])).ToList();
            foreach (var line in lines)
            {
                var path = _files.WriteBytes(line);
                try
                {
                    DataFiles.ReadAll(path);
                    acceptedAlone++;
                }
                catch (InvalidDataException e)
                {
                    Assert.StartsWith($"{path}:", e.Message);
                    refusedAlone++;
                }
                mutated++;
            }

            var all = _files.WriteBytes([.. lines.SelectMany(l => l.Append((byte)'\n'))]);
            var reader = new PreferenceReader(all, new ReaderOptions { SkipInvalid = true });
            var records = reader.ReadRecords().ToList();
            Assert.All(reader.Report.Skipped, issue => Assert.True(issue.Line > 0 && issue.Message.Length > 0, issue.ToString()));
            Assert.True(reader.Report.SkippedCount > MutatedPerFormat / 3, $"{format}: only {reader.Report.SkippedCount} of {lines.Count} refused");
            Assert.True(records.Count > 10, $"{format}: only {records.Count} mutated records still valid");
            var acceptedPath = _files.PathFor($"accepted-{format}.jsonl");
            PreferenceWriter.WriteAll(acceptedPath, records);
            AssertRoundTrips(acceptedPath, format);
        }
        Assert.True(mutated >= 1000, $"{mutated} mutated records");
        Assert.True(acceptedAlone > 0 && refusedAlone > 0);
    }

    /// <summary>JSONL → canonical JSONL → CSV → JSONL gives the canonical bytes again, and canonical JSONL is a fixed point.</summary>
    void AssertRoundTrips(string path, string format)
    {
        var canonical = _files.PathFor($"{format}-{Guid.NewGuid():N}.canonical.jsonl");
        var again = _files.PathFor($"{format}-{Guid.NewGuid():N}.again.jsonl");
        var csv = _files.PathFor($"{format}-{Guid.NewGuid():N}.csv");
        var back = _files.PathFor($"{format}-{Guid.NewGuid():N}.back.jsonl");
        FormatConversion.Convert(path, canonical);
        FormatConversion.Convert(canonical, again);
        FormatConversion.Convert(canonical, csv);
        FormatConversion.Convert(csv, back);
        var expected = File.ReadAllText(canonical);
        Assert.Equal(expected, File.ReadAllText(again));
        Assert.Equal(expected, File.ReadAllText(back));
    }
}
