using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using RewardKit.Text;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit bench tokenizer</c>: Tokenizer encoding MB/s, beside the npm gpt-tokenizer.</summary>
/// <remarks>bench/tokenizer_compare.sh runs this and gpt-tokenizer (r50k_base, node) on the same text and prints the ratio.</remarks>
public static class BenchTokenizerCommand
{
    /// <summary>The text fields read from each record (the HH-RLHF file has prompt, chosen and rejected).</summary>
    static readonly string[] TextFields = ["prompt", "chosen", "rejected", "text", "response", "responses"];

    /// <summary>Builds the <c>bench tokenizer</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the results as one JSON object." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer folder (default ../shared/tokenizers/gpt2)." };
        var data = new Option<string?>("--data") { Description = "JSONL whose text fields are encoded (default ../shared/data/hh-rlhf-harmless-test.jsonl)." };
        var repeats = new Option<int>("--repeats") { Description = "Timed passes over the text per thread count (after 1.5 s of warm-up); the median is reported.", DefaultValueFactory = _ => 10 };
        var command = new Command("tokenizer", "Tokenizer encoding MB/s with 1 and 2 threads, beside the npm gpt-tokenizer (bench/tokenizer_compare.sh).")
        {
            json, tokenizer, data, repeats,
        };
        command.SetAction((parse, ct) =>
        {
            string tokDir = parse.GetValue(tokenizer) ?? FindShared("tokenizers/gpt2");
            string dataPath = parse.GetValue(data) ?? FindShared("data/hh-rlhf-harmless-test.jsonl");
            int passes = Math.Max(1, parse.GetValue(repeats));
            var texts = ReadTexts(dataPath);
            long bytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));

            // Cold: a fresh tokenizer (empty merge caches), one pass, one thread.
            var load = Stopwatch.StartNew();
            var tok = ByteLevelBpeTokenizer.FromDirectory(tokDir);
            double loadSeconds = load.Elapsed.TotalSeconds;
            var cold = Stopwatch.StartNew();
            long tokens = 0;
            ulong hash = 14695981039346656037UL;
            foreach (var t in texts)
                foreach (int id in tok.Encode(t))
                {
                    tokens++;
                    hash = (hash ^ (uint)id) * 1099511628211UL;
                }
            double coldSeconds = cold.Elapsed.TotalSeconds;

            double Pass(int threads)
            {
                ct.ThrowIfCancellationRequested();
                var sw = Stopwatch.StartNew();
                if (threads == 1) foreach (var t in texts) tok.Encode(t);
                else tok.EncodeBatch(texts, threads, cancellationToken: ct);
                return sw.Elapsed.TotalSeconds;
            }
            double Median(int threads)
            {
                // Warm-up until the JIT has settled on optimised code (tiered compilation), then time passes.
                for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 1.5;) Pass(threads);
                var times = Enumerable.Range(0, passes).Select(_ => Pass(threads)).Order().ToArray();
                return times[times.Length / 2];
            }
            double one = Median(1), two = Median(2);
            double Mbps(double s) => bytes / 1e6 / s;

            if (parse.GetValue(json))
            {
                var result = new Dictionary<string, object>
                {
                    ["bench"] = "tokenizer",
                    ["implementation"] = "RewardKit.Text ByteLevelBpeTokenizer",
                    ["data"] = dataPath,
                    ["texts"] = texts.Count,
                    ["bytes"] = bytes,
                    ["tokens"] = tokens,
                    ["ids_fnv1a"] = hash.ToString("x16"),
                    ["load_seconds"] = Math.Round(loadSeconds, 3),
                    ["cold_mb_per_s"] = Math.Round(Mbps(coldSeconds), 2),
                    ["mb_per_s_1_thread"] = Math.Round(Mbps(one), 2),
                    ["mb_per_s_2_threads"] = Math.Round(Mbps(two), 2),
                    ["tokens_per_s_1_thread"] = Math.Round(tokens / one),
                    ["repeats"] = passes,
                    ["cores"] = Environment.ProcessorCount,
                };
                Console.WriteLine(JsonSerializer.Serialize(result));
            }
            else
            {
                Console.WriteLine($"{texts.Count} texts, {bytes / 1e6:F2} MB, {tokens} tokens (ids fnv1a {hash:x16})");
                Console.WriteLine($"load {loadSeconds:F2} s; cold pass {Mbps(coldSeconds):F1} MB/s; 1 thread {Mbps(one):F1} MB/s; 2 threads {Mbps(two):F1} MB/s");
            }
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    /// <summary>Every text field of every record, in file order and field order (the node side reads the same).</summary>
    static List<string> ReadTexts(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"benchmark data '{path}' does not exist; pass --data FILE.jsonl.", path);
        var texts = new List<string>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            foreach (var field in TextFields)
            {
                if (!doc.RootElement.TryGetProperty(field, out var v)) continue;
                if (v.ValueKind == JsonValueKind.String) texts.Add(TextCorpus.GetText(v));
                else if (v.ValueKind == JsonValueKind.Array)
                    foreach (var e in v.EnumerateArray())
                        if (e.ValueKind == JsonValueKind.String) texts.Add(TextCorpus.GetText(e));
            }
        }
        if (texts.Count == 0)
            throw new InvalidDataException($"{path}: no text fields ({string.Join(", ", TextFields)}) found; pass a JSONL file of preference records.");
        return texts;
    }

    /// <summary>A path under ../shared: $REWARDKIT_SHARED, or a "shared" folder beside the working folder or any parent.</summary>
    static string FindShared(string relative)
    {
        var env = Environment.GetEnvironmentVariable("REWARDKIT_SHARED");
        if (!string.IsNullOrEmpty(env)) return Path.Combine(env, relative);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", relative);
                if (File.Exists(candidate) || Directory.Exists(candidate)) return candidate;
            }
        throw new UserErrorException($"../shared/{relative} not found; set REWARDKIT_SHARED or pass --tokenizer/--data.");
    }
}
