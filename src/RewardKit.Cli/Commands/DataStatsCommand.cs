using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using RewardKit.Data;
using RewardKit.Text;
using Spectre.Console;

namespace RewardKit.Cli.Commands;

public static partial class DataCommand
{
    static Command Stats()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A JSONL, CSV or Parquet preference file (pairs, rankings or ratings)." };
        var json = new Option<bool>("--json") { Description = "Print the statistics as one JSON object instead of tables." };
        var tokenizer = new Option<DirectoryInfo?>("--tokenizer") { Description = "A tokenizer folder (e.g. ../shared/tokenizers/gpt2): lengths in tokens too." };
        var skip = new Option<bool>("--skip-invalid") { Description = "Accept invalid records (still listed) and exit 0; without it the stats are printed but the exit code is 1 when any record is invalid." };
        var command = new Command("stats", "Counts, categories, length percentiles, duplicates, contradictions, ties and the longer-wins share of a preference file. Invalid records are always listed with line and field; the statistics are of the valid rest.") { file, json, tokenizer, skip };
        command.SetAction((parse, ct) =>
        {
            Func<string, int>? countTokens = null;
            if (parse.GetValue(tokenizer) is { } dir)
            {
                var bpe = ByteLevelBpeTokenizer.FromDirectory(dir.FullName);
                countTokens = text => bpe.CountTokens(text);
            }
            var stats = PreferenceStatistics.Compute(parse.GetValue(file)!.FullName, new ReaderOptions { SkipInvalid = true }, countTokens, ct);
            if (parse.GetValue(json)) Console.Out.WriteLine(ToJson(stats));
            else PrintTables(stats);
            return Task.FromResult(stats.Skipped == 0 || parse.GetValue(skip) ? CliApp.Success : CliApp.UserError);
        });
        return command;
    }

    /// <summary>A Spectre console on the current <see cref="Console.Out"/> (so tests that redirect it see the output).</summary>
    static IAnsiConsole Terminal()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Out),
            Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = Console.IsOutputRedirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        });
        if (Console.IsOutputRedirected) console.Profile.Width = 160; // files and pipes: do not wrap at 80 columns
        return console;
    }

    static string F(double v, string format = "F0") => double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

    static void PrintTables(PreferenceStatistics s)
    {
        var console = Terminal();
        if (s.Skipped > 0)
        {
            var bad = new Table().Title($"[red]{s.Skipped} invalid record(s), not counted below[/]").AddColumn("line").AddColumn("field").AddColumn("problem");
            foreach (var issue in s.Report.Skipped)
                bad.AddRow(issue.Line.ToString(CultureInfo.InvariantCulture), Markup.Escape(issue.Field ?? "(record)"), Markup.Escape(issue.Message));
            console.Write(bad);
        }
        var summary = new Table().Title(Markup.Escape(s.File)).AddColumn("statistic").AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => summary.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("format", s.Format.ToString());
        Row("records", s.Records.ToString(CultureInfo.InvariantCulture));
        Row("invalid (skipped)", s.Skipped.ToString(CultureInfo.InvariantCulture));
        Row("pairs", s.Pairs.ToString(CultureInfo.InvariantCulture));
        Row("distinct prompts", s.Prompts.ToString(CultureInfo.InvariantCulture));
        Row("duplicate pairs", s.DuplicatePairs.ToString(CultureInfo.InvariantCulture));
        Row("duplicate ids", s.DuplicateIds.ToString(CultureInfo.InvariantCulture));
        Row("contradictory pairs (A>B and B>A)", s.ContradictoryPairs.ToString(CultureInfo.InvariantCulture));
        Row("ties (no pair made)", s.Ties.ToString(CultureInfo.InvariantCulture));
        Row("equal-length pairs", s.EqualLengthPairs.ToString(CultureInfo.InvariantCulture));
        Row("longer response wins", F(s.LongerWinsShare, "P1"));
        Row("warnings", s.Report.WarningCount.ToString(CultureInfo.InvariantCulture));
        console.Write(summary);

        var lengths = new Table().Title("lengths").AddColumn("text").AddColumn("unit");
        foreach (var c in new[] { "n", "p5", "p50", "p95", "max" }) lengths.AddColumn(new TableColumn(c).RightAligned());
        void Lengths(string text, string unit, LengthPercentiles? p)
        {
            if (p is null) return;
            lengths.AddRow(text, unit, p.Count.ToString(CultureInfo.InvariantCulture), F(p.P5), F(p.P50), F(p.P95), F(p.Max));
        }
        Lengths("prompt", "chars", s.PromptChars);
        Lengths("response", "chars", s.ResponseChars);
        Lengths("prompt", "tokens", s.PromptTokens);
        Lengths("response", "tokens", s.ResponseTokens);
        console.Write(lengths);

        var categories = new Table().Title("categories").AddColumn("category").AddColumn(new TableColumn("records").RightAligned()).AddColumn(new TableColumn("share").RightAligned());
        foreach (var (name, count) in s.Categories.Take(30))
            categories.AddRow(Markup.Escape(name), count.ToString(CultureInfo.InvariantCulture), F((double)count / Math.Max(1, s.Records), "P1"));
        if (s.Categories.Count > 30) categories.AddRow($"... {s.Categories.Count - 30} more", "", "");
        console.Write(categories);
        if (s.Skipped > 0)
            Console.Out.WriteLine($"{s.Skipped} invalid record(s) listed above were left out; the statistics are of the {s.Records} valid records.");
    }

    static string ToJson(PreferenceStatistics s)
    {
        static object? L(LengthPercentiles? p) => p is null ? null : new { count = p.Count, p5 = p.P5, p50 = p.P50, p95 = p.P95, max = p.Max };
        var dto = new Dictionary<string, object?>
        {
            ["file"] = s.File,
            ["format"] = s.Format.ToString().ToLowerInvariant(),
            ["records"] = s.Records,
            ["invalid"] = s.Skipped,
            ["invalid_records"] = s.Report.Skipped.Select(i => new { line = i.Line, field = i.Field, message = i.Message }).ToList(),
            ["pairs"] = s.Pairs,
            ["prompts"] = s.Prompts,
            ["categories"] = s.Categories.ToDictionary(c => c.Key, c => c.Value),
            ["prompt_chars"] = L(s.PromptChars),
            ["response_chars"] = L(s.ResponseChars),
            ["prompt_tokens"] = L(s.PromptTokens),
            ["response_tokens"] = L(s.ResponseTokens),
            ["duplicate_pairs"] = s.DuplicatePairs,
            ["duplicate_ids"] = s.DuplicateIds,
            ["contradictory_pairs"] = s.ContradictoryPairs,
            ["ties"] = s.Ties,
            ["equal_length_pairs"] = s.EqualLengthPairs,
            ["longer_wins_share"] = double.IsNaN(s.LongerWinsShare) ? null : s.LongerWinsShare,
            ["warnings"] = s.Report.WarningCount,
        };
        return JsonSerializer.Serialize(dto, new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    static Command Split()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A JSONL, CSV or Parquet preference file." };
        var by = new Option<string>("--by") { Description = "What must not cross splits; only 'prompt' is supported.", DefaultValueFactory = _ => "prompt" };
        var fractions = new Option<string>("--fractions") { Description = "Shares of train,validation,test (or train,test), summing to 1.", DefaultValueFactory = _ => "0.8,0.1,0.1" };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Folder for train/validation/test.jsonl.", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the prompt shuffle; the same seed gives the same split.", DefaultValueFactory = _ => 1 };
        var skip = new Option<bool>("--skip-invalid") { Description = "Leave invalid records out (listed) instead of stopping at the first." };
        var command = new Command("split", "Split a preference file by prompt so that no prompt is in two splits.") { file, by, fractions, outDir, seed, skip };
        command.SetAction((parse, ct) =>
        {
            if (parse.GetValue(by) != "prompt")
                throw new UserErrorException($"--by {parse.GetValue(by)}: only --by prompt is supported (records of one prompt stay together)");
            var (parts, report) = PromptSplit.Split(parse.GetValue(file)!.FullName, PromptSplit.ParseFractions(parse.GetValue(fractions)!),
                parse.GetValue(outDir)!.FullName, parse.GetValue(seed), new ReaderOptions { SkipInvalid = parse.GetValue(skip) }, FileContainer.Jsonl, ct);
            foreach (var issue in report.Skipped) Console.WriteLine($"invalid (left out): {issue}");
            foreach (var p in parts)
                Console.WriteLine($"{p.Name,-10} records {p.Records,7}  prompts {p.Prompts,7}  {p.Path}");
            Console.WriteLine(report.Summary());
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static Command Convert()
    {
        var input = new Option<FileInfo>("--in") { Description = "The input file (.jsonl, .csv or .parquet).", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "The output file; the container follows its extension unless --format says otherwise.", Required = true };
        var to = new Option<string?>("--to") { Description = "pairs, rankings or ratings; default: keep the input's format (lossless)." };
        var format = new Option<string?>("--format") { Description = "jsonl, csv or parquet; default: from the --out extension." };
        var skip = new Option<bool>("--skip-invalid") { Description = "Leave invalid records out (listed) instead of stopping at the first." };
        var command = new Command("convert", "Convert a preference file between JSONL, CSV and Parquet and between pairs, rankings and ratings.") { input, output, to, format, skip };
        command.SetAction((parse, ct) =>
        {
            var target = parse.GetValue(to) switch
            {
                null => RecordFormat.Auto,
                "pairs" => RecordFormat.Pairs,
                "rankings" => RecordFormat.Rankings,
                "ratings" => RecordFormat.Ratings,
                var other => throw new UserErrorException($"--to {other}: use pairs, rankings or ratings"),
            };
            var container = parse.GetValue(format) switch
            {
                null => FileContainer.Auto,
                "jsonl" => FileContainer.Jsonl,
                "csv" => FileContainer.Csv,
                "parquet" => FileContainer.Parquet,
                var other => throw new UserErrorException($"--format {other}: use jsonl, csv or parquet"),
            };
            var outPath = parse.GetValue(output)!.FullName;
            var (written, from, toFormat, report) = FormatConversion.Convert(parse.GetValue(input)!.FullName, outPath, target, container,
                new ReaderOptions { SkipInvalid = parse.GetValue(skip) }, ct);
            foreach (var issue in report.Skipped) Console.WriteLine($"invalid (left out): {issue}");
            Console.WriteLine($"{report.Summary()}; wrote {written} {toFormat} records ({PreferenceReader.ContainerOf(outPath, container)}) to {outPath} (from {from})");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }
}
