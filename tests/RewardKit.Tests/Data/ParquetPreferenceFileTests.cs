using Parquet.Serialization;
using RewardKit.Data;

namespace RewardKit.Tests.DataFormats;

/// <summary>Parquet input and output (PreferenceReader.Parquet.cs, ParquetPreferenceWriter.cs).</summary>
public sealed class ParquetPreferenceFileTests : IDisposable
{
    readonly DataFiles _files = new();
    public void Dispose() => _files.Dispose();

    [Theory]
    [MemberData(nameof(FormatConversionTests.EveryFormat), MemberType = typeof(FormatConversionTests))]
    public void JSONL_to_Parquet_and_back_is_lossless(string format, string text)
    {
        var canonical = _files.PathFor(format + ".canonical.jsonl");
        var parquet = _files.PathFor(format + ".parquet");
        var back = _files.PathFor(format + ".back.jsonl");
        FormatConversion.Convert(_files.Write(text + "\n"), canonical);
        var (written, from, to, _) = FormatConversion.Convert(canonical, parquet);
        Assert.Equal((from, text.Split('\n').Length), (to, (int)written));
        Assert.Equal("PAR1"u8.ToArray(), File.ReadAllBytes(parquet)[..4]);
        FormatConversion.Convert(parquet, back);
        Assert.Equal(File.ReadAllText(canonical), File.ReadAllText(back));

        var parquet2 = _files.PathFor(format + ".2.parquet");
        FormatConversion.Convert(back, parquet2);
        Assert.Equal(File.ReadAllBytes(parquet), File.ReadAllBytes(parquet2));
    }

    [Fact]
    public void Empty_optional_texts_survive_a_Parquet_round_trip()
    {
        var canonical = _files.PathFor("empty.jsonl");
        var parquet = _files.PathFor("empty.parquet");
        FormatConversion.Convert(_files.Write("{\"id\": \"\", \"category\": \"\", \"prompt\": \"\", \"chosen\": \"\", \"rejected\": \"b\", \"annotator\": \"\"}\n"), canonical);
        FormatConversion.Convert(canonical, parquet);
        var pair = (PreferencePair)DataFiles.ReadAll(parquet).Single();
        Assert.Equal(("", "", "", "", ""), (pair.Id, pair.Category, pair.Prompt, pair.Annotator, pair.Chosen));
    }

    [Fact]
    public void Large_files_stream_by_row_group_in_order()
    {
        var n = ParquetPreferenceWriter.RowGroupSize * 2 + 7;
        var parquet = _files.PathFor("big.parquet");
        var written = PreferenceWriter.WriteAll(parquet, Enumerable.Range(0, n).Select(i =>
            (PreferenceRecord)new PreferencePair { Id = $"p{i}", Prompt = $"q{i}", Chosen = "a", Rejected = "b", Margin = i * 0.5 }));
        Assert.Equal(n, written);
        var reader = new PreferenceReader(parquet);
        var i = 0;
        foreach (var pair in reader.ReadPairs())
        {
            Assert.Equal(($"p{i}", i * 0.5, (long)i + 1), (pair.Id, pair.Margin!.Value, pair.LineNumber));
            i++;
        }
        Assert.Equal(n, i);
        Assert.Equal(new FileInfo(parquet).Length, reader.BytesRead);
    }

    sealed class LooseRow
    {
        public string? prompt { get; set; }
        public string? chosen { get; set; }
        public string? rejected { get; set; }
        public string? margin { get; set; }
    }

    string WriteLoose(params LooseRow[] rows)
    {
        var path = _files.PathFor(Guid.NewGuid().ToString("N")[..8] + ".parquet");
        using var stream = File.Create(path);
        ParquetSerializer.SerializeAsync(rows, stream).GetAwaiter().GetResult();
        return path;
    }

    [Fact]
    public void A_bad_row_names_file_and_row_and_skip_invalid_counts_it()
    {
        var path = WriteLoose(
            new() { prompt = "p", chosen = "a", rejected = "b" },
            new() { prompt = "p", chosen = "a", rejected = null },
            new() { prompt = "p", chosen = "a", rejected = "b", margin = "lots" });
        var error = DataFiles.Fails(path);
        Assert.StartsWith($"{path}:2: ", error.Message);
        Assert.Contains("rejected", error.Message);

        var reader = new PreferenceReader(path, new ReaderOptions { SkipInvalid = true });
        var pairs = reader.ReadPairs().ToList();
        Assert.Single(pairs);
        Assert.Equal([2L, 3L], reader.Report.Skipped.Select(s => s.Line));
        Assert.Contains(reader.Report.Skipped, s => s.Field == "margin");
    }

    sealed class Message
    {
        public string? role { get; set; }
        public string? content { get; set; }
    }

    sealed class HubPairRow
    {
        public long id { get; set; }
        public string? prompt { get; set; }
        public List<Message> chosen { get; set; } = [];
        public List<Message> rejected { get; set; } = [];
        public double score_chosen { get; set; }
        public List<string> tags { get; set; } = [];
    }

    sealed class HubRankingRow
    {
        public string? prompt { get; set; }
        public List<string> responses { get; set; } = [];
        public List<int> ranks { get; set; } = [];
    }

    [Fact]
    public async Task Hugging_Face_layouts_read_with_message_lists_list_columns_and_typed_extras()
    {
        var pairs = _files.PathFor("hub-pairs.parquet");
        await using (var stream = File.Create(pairs))
            await ParquetSerializer.SerializeAsync(new[] { new HubPairRow
            {
                id = 7, prompt = "Hi?",
                chosen = [new() { role = "user", content = "Hi?" }, new() { role = "assistant", content = "Hello!" }],
                rejected = [new() { role = "user", content = "Hi?" }, new() { role = "assistant", content = "Go away." }],
                score_chosen = 8.5, tags = ["greeting"],
            } }, stream);
        var pair = (PreferencePair)DataFiles.ReadAll(pairs).Single();
        Assert.Equal("7", pair.Id);
        Assert.Equal(("assistant", "Hello!"), (pair.ChosenMessages![^1].Role, pair.ChosenMessages[^1].Content));
        Assert.Equal("Go away.", pair.RejectedMessages![^1].Content);
        Assert.Equal(8.5, pair.Extra["score_chosen"].GetDouble());
        Assert.Equal("greeting", pair.Extra["tags"][0].GetString());

        var rankings = _files.PathFor("hub-rankings.parquet");
        await using (var stream = File.Create(rankings))
            await ParquetSerializer.SerializeAsync(new[] { new HubRankingRow { prompt = "Name a prime.", responses = ["7", "9"], ranks = [0, 1] } }, stream);
        var group = (RankedGroup)DataFiles.ReadAll(rankings).Single();
        Assert.Equal(["7", "9"], group.Responses);
        Assert.Equal([0.0, 1.0], group.Ranks.Select(r => (double)r));
    }

    [Fact]
    public void A_text_file_named_parquet_is_refused_with_the_fix()
    {
        var path = _files.Write("{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}\n", ".parquet");
        var error = DataFiles.Fails(path);
        Assert.StartsWith($"{path}: not a readable Parquet file", error.Message);
        Assert.Contains(".jsonl", error.Message);
    }

    [Fact]
    public void An_empty_Parquet_file_holds_no_records()
    {
        var path = _files.PathFor("none.parquet");
        Assert.Equal(0, PreferenceWriter.WriteAll(path, []));
        Assert.Empty(DataFiles.ReadAll(path));
    }

    [SharedDataTheory]
    [InlineData("data/hh-rlhf-harmless-test.jsonl")]
    [InlineData("data/oasst-en100-ranked.jsonl")]
    [InlineData("data/pandalm-test.jsonl")]
    public void Shared_files_round_trip_through_Parquet(string file)
    {
        var options = new ReaderOptions { SkipInvalid = true };
        var direct = _files.PathFor("direct.jsonl");
        var parquet = _files.PathFor("via.parquet");
        var back = _files.PathFor("back.jsonl");
        var (written, _, _, report) = FormatConversion.Convert(SharedData.PathOf(file), direct, options: options);
        Assert.Equal(report.RecordsRead, written);
        FormatConversion.Convert(direct, parquet);
        FormatConversion.Convert(parquet, back);
        Assert.Equal(File.ReadAllBytes(direct), File.ReadAllBytes(back));
    }
}
