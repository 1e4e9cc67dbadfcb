using System.Text;
using RewardKit.Data;

namespace RewardKit.Tests.DataFormats;

public sealed class PreferenceReaderTests : IDisposable
{
    readonly DataFiles _files = new();
    public void Dispose() => _files.Dispose();

    const string Good = """{"prompt": "p", "chosen": "a", "rejected": "b"}""";

    /// <summary>Asserts that reading fails at <paramref name="line"/> and that the message names the field (when there is one) and the file.</summary>
    static void FailsAt(string path, int line, string? field, string? also = null)
    {
        var e = DataFiles.Fails(path);
        Assert.Contains($"{path}:{line}:", e.Message);
        if (field is not null) Assert.Contains($"'{field}'", e.Message);
        if (also is not null) Assert.Contains(also, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("--skip-invalid", e.Message); // the fix is named
    }

    // Each case: the file text, the line at fault, the field named (null when the whole record is at fault), a word the message must hold.
    public static TheoryData<string, string, int, string?, string> BadJsonl => new()
    {
        { "truncated line", Good + "\n{\"prompt\": \"p\", \"chosen\": \"a\", \"rej", 2, null, "truncated" },
        { "number where text belongs", Good + "\n{\"prompt\": \"p\", \"chosen\": 3, \"rejected\": \"b\"}", 2, "chosen", "number" },
        { "missing rejected", Good + "\n" + Good + "\n{\"prompt\": \"p\", \"chosen\": \"a\"}", 3, "rejected", "missing" },
        { "chosen equals rejected", "{\"prompt\": \"p\", \"chosen\": \"same\", \"rejected\": \"same\"}", 1, "rejected", "identical" },
        { "JSON boolean as chosen", "{\"prompt\": \"p\", \"chosen\": true, \"rejected\": \"b\"}", 1, "chosen", "boolean" },
        { "null prompt with texts that share no turn", "{\"chosen\": \"x\", \"rejected\": \"y\"}", 1, "prompt", "missing" },
        { "nested object as response", "{\"prompt\": \"p\", \"chosen\": {\"text\": \"a\"}, \"rejected\": \"b\"}", 1, "chosen", "object" },
        { "array of numbers as response", "{\"prompt\": \"p\", \"chosen\": [1, 2], \"rejected\": \"b\"}", 1, "chosen[0]", "message" },
        { "rating as text", "{\"prompt\": \"p\", \"response\": \"r\", \"rating\": \"4\"}", 1, "rating", "number" },
        { "rating overflows", "{\"prompt\": \"p\", \"response\": \"r\", \"rating\": 1e999}", 1, "rating", "finite" },
        { "NaN rating (not JSON)", "{\"prompt\": \"p\", \"response\": \"r\", \"rating\": NaN}", 1, null, "not valid JSON" },
        { "ranks shorter than responses", "{\"prompt\": \"p\", \"responses\": [\"a\", \"b\", \"c\"], \"ranks\": [0, 1]}", 1, "ranks", "one rank per response" },
        { "negative rank", "{\"prompt\": \"p\", \"responses\": [\"a\", \"b\"], \"ranks\": [0, -1]}", 1, "ranks[1]", "non-negative" },
        { "fractional rank", "{\"prompt\": \"p\", \"responses\": [\"a\", \"b\"], \"ranks\": [0, 0.5]}", 1, "ranks[1]", "integer" },
        { "one response in a ranking", "{\"prompt\": \"p\", \"responses\": [\"a\"], \"ranks\": [0]}", 1, "responses", "at least two" },
        { "mixed formats", Good + "\n{\"prompt\": \"p\", \"responses\": [\"a\", \"b\"], \"ranks\": [0, 1]}", 2, null, "own file" },
        { "field given twice", "{\"prompt\": \"p\", \"chosen\": \"a\", \"chosen\": \"c\", \"rejected\": \"b\"}", 1, "chosen", "twice" },
        { "numeric id", "{\"id\": 7, \"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}", 1, "id", "quote" },
        { "negative weight", "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"weight\": -1}", 1, "weight", "non-negative" },
        { "p_true above one", "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"p_true\": 1.5}", 1, "p_true", "[0, 1]" },
        { "a JSON array line", "[1, 2]", 1, null, "one object per line" },
        { "two records on one line", Good + " " + Good, 1, null, "one record per line" },
        { "not a preference record", "{\"text\": \"hello\"}", 1, null, "preference file" },
        { "message without content", "{\"prompt\": [{\"role\": \"user\"}], \"chosen\": \"a\", \"rejected\": \"b\"}", 1, "prompt[0].content", "missing" },
        // Lone surrogate escapes: valid JSON syntax, but no character; reading one as a string would throw inside System.Text.Json.
        { "lone high surrogate in prompt", "{\"prompt\": \"p\\ud800\", \"chosen\": \"a\", \"rejected\": \"b\"}", 1, "prompt", "lone surrogate escape \\ud800" },
        { "lone low surrogate in chosen", Good + "\n{\"prompt\": \"p\", \"chosen\": \"\\udc00a\", \"rejected\": \"b\"}", 2, "chosen", "lone surrogate" },
        { "high surrogate followed by a letter", "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"\\ud83dx\"}", 1, "rejected", "lone surrogate" },
        { "lone surrogate in a key", "{\"p\\udc00\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}", 1, null, "lone surrogate" },
        { "lone surrogate in a message", "{\"prompt\": [{\"role\": \"user\", \"content\": \"q\\ud800\"}], \"chosen\": \"a\", \"rejected\": \"b\"}", 1, "prompt[0].content", "lone surrogate" },
        { "lone surrogate in a ranking response", "{\"prompt\": \"p\", \"responses\": [\"a\", \"\\ud800\"], \"ranks\": [0, 1]}", 1, "responses[1]", "lone surrogate" },
        { "lone surrogate in an extra field", "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"meta\": {\"note\": [\"\\udfff\"]}}", 1, "meta.note[0]", "lone surrogate" },
        // Repeated keys at every depth (a parser would keep the last one silently).
        { "content given twice in a message", "{\"prompt\": [{\"role\": \"user\", \"content\": \"q\", \"content\": \"SECOND\"}], \"chosen\": \"a\", \"rejected\": \"b\"}", 1, "prompt[0].content", "twice" },
        { "role given twice in a message", "{\"prompt\": \"p\", \"chosen\": [{\"role\": \"assistant\", \"role\": \"user\", \"content\": \"a\"}], \"rejected\": [{\"role\": \"assistant\", \"content\": \"b\"}]}", 1, "chosen[0].role", "twice" },
        { "key repeated deep in an extra field", "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"meta\": {\"k\": [{\"x\": 1, \"x\": 2}]}}", 1, "meta.k[0].x", "twice" },
        { "label given twice", "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"labels\": {\"honesty\": 1, \"honesty\": -1}}", 1, "labels.honesty", "twice" },
    };

    [Theory]
    [MemberData(nameof(BadJsonl))]
    public void A_bad_record_stops_the_read_with_its_line_field_and_the_fix(string kind, string text, int line, string? field, string word)
    {
        Assert.NotEmpty(kind);
        FailsAt(_files.Write(text), line, field, word);
    }

    [Fact]
    public void A_valid_surrogate_pair_escape_is_text_and_reads()
    {
        var path = _files.Write("{\"prompt\": \"smile \\ud83d\\ude00\", \"chosen\": \"\\\\ud800 is escaped text\", \"rejected\": \"b\"}\n");
        var pair = (PreferencePair)DataFiles.ReadAll(path).Single();
        Assert.Equal("smile 😀", pair.Prompt);
        Assert.Equal("\\ud800 is escaped text", pair.Chosen); // an escaped backslash, not an escape
    }

    [Fact]
    public void Skip_invalid_counts_lone_surrogates_and_repeated_keys_by_line_and_field()
    {
        var path = _files.Write(string.Join("\n",
            Good,
            "{\"prompt\": \"p\\ud800\", \"chosen\": \"a\", \"rejected\": \"b\"}",
            "{\"prompt\": [{\"role\": \"user\", \"content\": \"q\", \"content\": \"SECOND\"}], \"chosen\": \"a\", \"rejected\": \"b\"}",
            "{\"p\\ud800\": 1, \"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}",
            Good) + "\n");
        var reader = new PreferenceReader(path, new ReaderOptions { SkipInvalid = true });
        Assert.Equal(2, reader.ReadRecords().Count());
        Assert.Equal(3, reader.Report.SkippedCount);
        Assert.Equal([2L, 3L, 4L], reader.Report.Skipped.Select(i => i.Line));
        Assert.Equal(["prompt", "prompt[0].content", "p\\ud800"], reader.Report.Skipped.Select(i => i.Field));
    }

    [Fact]
    public void JSON_cells_of_a_CSV_are_checked_for_lone_surrogates_and_repeated_keys()
    {
        var surrogate = _files.Write("prompt,chosen,rejected,extra\np,a,b,\"{\"\"note\"\": \"\"x\\ud800\"\"}\"\n", ".csv");
        FailsAt(surrogate, 2, "extra.note", "lone surrogate");
        var repeated = _files.Write("prompt_messages,chosen,rejected\n\"[{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"q\"\", \"\"content\"\": \"\"x\"\"}]\",a,b\n", ".csv");
        FailsAt(repeated, 2, "prompt_messages[0].content", "twice");
    }

    [Fact]
    public void The_file_is_read_once_and_its_sha256_comes_from_that_read()
    {
        // A CSV with a byte order mark too: the mark is skipped for parsing but hashed with the rest.
        var jsonl = _files.Write(Good + "\n" + "{\"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}\n");
        var csv = _files.WriteBytes([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("prompt,chosen,rejected\np,a,b\nq,a,b\n")], ".csv");
        foreach (var path in new[] { jsonl, csv })
        {
            var reader = new PreferenceReader(path, new ReaderOptions { ComputeSha256 = true });
            Assert.Equal(2, reader.ReadRecords().Count());
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), reader.Report.Sha256);
            Assert.Null(ReportOf(path).Sha256); // not asked for: not computed
        }
    }

    static ReadReport ReportOf(string path)
    {
        var reader = new PreferenceReader(path);
        _ = reader.ReadRecords().Count();
        return reader.Report;
    }

    [Fact]
    public async Task A_FIFO_reads_as_JSONL_and_as_CSV_with_its_sha256()
    {
        if (OperatingSystem.IsWindows()) return; // no mkfifo
        foreach (var (ext, text) in new[] { (".jsonl", Good + "\n"), (".csv", "prompt,chosen,rejected\np,a,b\n") })
        {
            var fifo = _files.PathFor("pipe" + ext);
            Fifo.Make(fifo);
            var writer = Fifo.WriteAsync(fifo, Encoding.UTF8.GetBytes(text));
            var reader = new PreferenceReader(fifo, new ReaderOptions { ComputeSha256 = true });
            Assert.Single(reader.ReadRecords());
            await writer.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text))), reader.Report.Sha256);
        }
    }

    [Fact]
    public void Invalid_UTF8_names_the_line_and_the_bad_byte()
    {
        var bytes = Encoding.UTF8.GetBytes(Good + "\n").Concat(new byte[] { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}', (byte)'\n' }).ToArray();
        FailsAt(_files.WriteBytes(bytes), 2, null, "UTF-8");
    }

    [Fact]
    public void Invalid_UTF8_in_a_CSV_names_the_bad_line_and_the_fix()
    {
        var bytes = Encoding.UTF8.GetBytes("prompt,chosen,rejected\np,a,b\n").Concat(new byte[] { (byte)'p', (byte)',', 0xFF, (byte)',', (byte)'b', (byte)'\n' }).ToArray();
        var path = _files.WriteBytes(bytes, ".csv");
        var e = DataFiles.Fails(path);
        Assert.Contains($"{path}:3:", e.Message); // the bad line, although the CSV reader decodes ahead of it
        Assert.Contains("re-encode", e.Message);
    }

    [Fact]
    public void A_record_above_the_size_limit_is_invalid_and_later_records_still_read()
    {
        var big = new string('x', 10 << 20); // a 10 MB string
        var path = _files.Write($"{{\"prompt\": \"p\", \"chosen\": \"{big}\", \"rejected\": \"b\"}}\n{Good}\n");
        var ok = DataFiles.ReadAll(path);
        Assert.Equal(big, ((PreferencePair)ok[0]).Chosen); // 10 MB is under the default 64 MiB limit

        var reader = new PreferenceReader(path, new ReaderOptions { SkipInvalid = true, MaxRecordBytes = 1 << 20 });
        var records = reader.ReadRecords().ToList();
        Assert.Single(records);
        Assert.Equal(2, records[0].LineNumber);
        var issue = Assert.Single(reader.Report.Skipped);
        Assert.Equal(1, issue.Line);
        Assert.Contains("MaxRecordBytes", issue.Message);
    }

    [Fact]
    public void BOM_CRLF_and_blank_lines_are_accepted_and_counted()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes(Good + "\r\n\r\n   \n" + Good.Replace("\"a\"", "\"c\"") + "\r\n")).ToArray();
        var reader = new PreferenceReader(_files.WriteBytes(bytes));
        var records = reader.ReadRecords().Cast<PreferencePair>().ToList();
        Assert.Equal(["a", "c"], records.Select(r => r.Chosen));
        Assert.Equal(4, records[1].LineNumber);
        Assert.True(reader.Report.HadByteOrderMark);
        Assert.Equal(2, reader.Report.BlankLines);
        Assert.True(reader.Report.CrlfLines >= 2);
        Assert.Equal("b", records[1].Rejected); // no stray \r
    }

    [Fact]
    public void A_BOM_in_a_CSV_is_not_part_of_the_first_column_name()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("prompt,chosen,rejected\r\np,a,b\r\n")).ToArray();
        var pair = (PreferencePair)Assert.Single(DataFiles.ReadAll(_files.WriteBytes(bytes, ".csv")));
        Assert.Equal(("p", "a", "b"), (pair.Prompt, pair.Chosen, pair.Rejected));
    }

    [Fact]
    public void An_empty_file_reads_no_records()
    {
        var reader = new PreferenceReader(_files.Write(""));
        Assert.Empty(reader.ReadRecords());
        Assert.Equal(0, reader.Report.RecordsRead);
    }

    [Fact]
    public void Empty_responses_and_duplicate_ids_are_accepted_with_a_warning_naming_line_and_field()
    {
        var path = _files.Write("{\"id\": \"x\", \"prompt\": \"p\", \"chosen\": \"\", \"rejected\": \"b\"}\n{\"id\": \"x\", \"prompt\": \"q\", \"chosen\": \"a\", \"rejected\": \"b\"}\n");
        var reader = new PreferenceReader(path);
        Assert.Equal(2, reader.ReadRecords().Count());
        Assert.Equal(1, reader.Report.DuplicateIds);
        Assert.Contains(reader.Report.Warnings, w => w.Line == 1 && w.Field == "chosen");
        Assert.Contains(reader.Report.Warnings, w => w.Line == 2 && w.Field == "id");
    }

    [Fact]
    public void Skip_invalid_counts_every_bad_record_and_keeps_the_good_ones()
    {
        var path = _files.Write(string.Join("\n", Good, "{\"prompt\": 1, \"chosen\": \"a\", \"rejected\": \"b\"}", "not json", Good, "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"a\"}") + "\n");
        var reader = new PreferenceReader(path, new ReaderOptions { SkipInvalid = true });
        Assert.Equal([1L, 4L], reader.ReadRecords().Select(r => r.LineNumber));
        Assert.Equal(3, reader.Report.SkippedCount);
        Assert.Equal([2L, 3L, 5L], reader.Report.Skipped.Select(s => s.Line));
        Assert.Equal(["prompt", null, "rejected"], reader.Report.Skipped.Select(s => s.Field));
        Assert.Contains("3 invalid skipped", reader.Report.Summary());
    }

    [Fact]
    public void A_short_CSV_row_names_its_line()
    {
        var path = _files.Write("prompt,chosen,rejected\np,a,b\np,a\n", ".csv");
        var e = DataFiles.Fails(path);
        Assert.Contains($"{path}:3:", e.Message);
        Assert.Contains("cells", e.Message);
    }

    [Fact]
    public void A_NaN_rating_in_a_CSV_is_rejected_with_line_and_field()
    {
        var path = _files.Write("prompt,response,rating\np,r,4\np,s,NaN\n", ".csv");
        var e = DataFiles.Fails(path);
        Assert.Contains($"{path}:3:", e.Message);
        Assert.Contains("'rating'", e.Message);
    }

    [Fact]
    public void HH_transcripts_split_their_implicit_prompt_at_the_last_shared_assistant_turn()
    {
        const string shared = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: How do I bake bread?\n\nAssistant:";
        var line = System.Text.Json.JsonSerializer.Serialize(new { chosen = shared + " Mix flour and water.", rejected = shared + " No." });
        var reader = new PreferenceReader(_files.Write(line + "\n"));
        var pair = (PreferencePair)Assert.Single(reader.ReadRecords());
        Assert.Equal(shared, pair.Prompt);
        Assert.Equal(" Mix flour and water.", pair.Chosen);
        Assert.Equal(" No.", pair.Rejected);
        Assert.Equal(1, reader.Report.ImplicitPromptPairs);
    }

    [Fact]
    public void HH_transcripts_that_diverge_inside_an_assistant_turn_keep_that_turn_in_the_responses()
    {
        const string shared = "\n\nHuman: Name a colour\n\nAssistant:";
        var line = System.Text.Json.JsonSerializer.Serialize(new { chosen = shared + " Blue is nice", rejected = shared + " Blue is ugly" });
        var pair = (PreferencePair)Assert.Single(DataFiles.ReadAll(_files.Write(line + "\n")));
        Assert.Equal(shared, pair.Prompt);
        Assert.Equal(" Blue is nice", pair.Chosen);
    }

    [SharedDataFact]
    public void PandaLM_has_six_boolean_responses_reported_by_line_and_field()
    {
        var path = SharedData.PathOf("data/pandalm-test.jsonl");
        var e = DataFiles.Fails(path);
        Assert.Contains($"{path}:140:", e.Message);
        Assert.Contains("'chosen'", e.Message);

        var reader = new PreferenceReader(path, new ReaderOptions { SkipInvalid = true });
        var count = reader.ReadRecords().Count();
        Assert.Equal(6, reader.Report.SkippedCount);
        Assert.All(reader.Report.Skipped, s => Assert.Equal("chosen", s.Field));
        Assert.All(reader.Report.Skipped, s => Assert.Contains("boolean", s.Message));
        Assert.Equal(File.ReadLines(path).Count(l => l.Trim().Length > 0) - 6, count);
    }

    [SharedDataFact]
    public void HH_harmless_reads_with_prompts_that_end_in_an_assistant_turn()
    {
        var (pairs, report) = PreferenceReader.ReadAllPairs(SharedData.PathOf("data/hh-rlhf-harmless-test.jsonl"));
        Assert.Equal(0, report.SkippedCount);
        Assert.True(pairs.Count > 2000);
        Assert.All(pairs, p => Assert.EndsWith("\n\nAssistant:", p.Prompt));
    }
}
