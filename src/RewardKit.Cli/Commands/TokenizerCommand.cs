using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using RewardKit.Text;

namespace RewardKit.Cli.Commands;

/// <summary><c>rewardkit tokenizer</c>: Byte-level BPE: encode, decode and train tokenizers.</summary>
public static class TokenizerCommand
{
    static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Builds the <c>tokenizer</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var command = new Command("tokenizer", "Byte-level BPE: encode, decode and train tokenizers.");
        command.Subcommands.Add(CreateEncode());
        command.Subcommands.Add(CreateDecode());
        command.Subcommands.Add(CreateTrain());
        command.Subcommands.Add(CreatePairs());
        command.Subcommands.Add(CreateConvert());
        return command;
    }

    static Option<string> TokenizerOption() => new("--tokenizer")
    {
        Description = "Folder with tokenizer.json, vocab.json + merges.txt, or encoder.json + vocab.bpe (e.g. ../shared/tokenizers/gpt2).",
        Required = true,
    };

    static Command CreateEncode()
    {
        var tokenizer = TokenizerOption();
        var field = new Option<string>("--field") { Description = "JSON field holding the text of each input line.", DefaultValueFactory = _ => "text" };
        var allowSpecial = new Option<bool>("--allow-special") { Description = "Match <|endoftext|> (and other special tokens) in the text as special ids; by default they are plain text." };
        var threads = new Option<int>("--threads") { Description = "Encoding threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var command = new Command("encode", "Read JSONL from stdin and write {\"ids\":[...]} per line to stdout.")
        {
            tokenizer, field, allowSpecial, threads,
        };
        command.SetAction((parse, ct) =>
        {
            var tok = ByteLevelBpeTokenizer.FromDirectory(parse.GetValue(tokenizer)!);
            string name = parse.GetValue(field)!;
            bool special = parse.GetValue(allowSpecial);
            int degree = parse.GetValue(threads);
            using var input = StdIn();
            using var output = StdOut();
            var texts = new List<string>();
            int lineNumber = 0, blank = 0;
            void Flush()
            {
                foreach (var ids in tok.EncodeBatch(texts, degree, special, ct)) WriteIds(output, ids);
                texts.Clear();
            }
            while (input.ReadLine() is { } line)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) { blank++; continue; } // not a record, like JSONL readers do
                texts.Add(TextCorpus.TextOf(line, "stdin", lineNumber, name));
                if (texts.Count == 4096) Flush();
            }
            Flush();
            if (blank > 0) Console.Error.WriteLine($"note: skipped {blank} blank line(s); one output line per JSON record.");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static Command CreateDecode()
    {
        var tokenizer = TokenizerOption();
        var command = new Command("decode", "Read {\"ids\":[...]} (or a bare [...]) per line from stdin and write {\"text\":\"...\"} per line.") { tokenizer };
        command.SetAction((parse, ct) =>
        {
            var tok = ByteLevelBpeTokenizer.FromDirectory(parse.GetValue(tokenizer)!);
            using var input = StdIn();
            using var output = StdOut();
            int lineNumber = 0;
            while (input.ReadLine() is { } line)
            {
                ct.ThrowIfCancellationRequested();
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                    throw new UserErrorException($"stdin:{lineNumber}: empty line; every line must be {{\"ids\":[...]}} or [...].");
                var ids = ReadIds(line, lineNumber);
                string text;
                try { text = tok.Decode(ids); }
                catch (ArgumentOutOfRangeException e) { throw new UserErrorException($"stdin:{lineNumber}: {e.Message.Split(" (Parameter")[0]}"); }
                output.Write(JsonSerializer.Serialize(new TextLine(text), RelaxedJson));
                output.Write('\n');
            }
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static Command CreateTrain()
    {
        var data = new Option<string[]>("--data") { Description = "Corpus files: .jsonl (text from --field) or plain text (one text per line).", Required = true, AllowMultipleArgumentsPerToken = true };
        var fields = new Option<string[]>("--field") { Description = "JSONL fields to read (repeat for several, e.g. --field prompt --field chosen).", DefaultValueFactory = _ => ["text"], AllowMultipleArgumentsPerToken = true };
        var vocabSize = new Option<int>("--vocab-size") { Description = "Vocabulary size including the 256 bytes and the special tokens.", DefaultValueFactory = _ => 8192 };
        var minFrequency = new Option<int>("--min-frequency") { Description = "Merge a pair only if it occurs at least this often.", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "Threads for counting (0 = all cores); the result does not depend on it.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Folder to write tokenizer.json, vocab.json and merges.txt into.", Required = true };
        var command = new Command("train", "Train a byte-level BPE tokenizer (special tokens <|endoftext|> and <|pad|>).")
        {
            data, fields, vocabSize, minFrequency, threads, outDir,
        };
        command.SetAction((parse, ct) =>
        {
            var options = new BpeTrainerOptions
            {
                VocabSize = parse.GetValue(vocabSize),
                MinFrequency = parse.GetValue(minFrequency),
                Threads = parse.GetValue(threads),
            };
            var trainer = new BpeTrainer(options);
            var clock = Stopwatch.StartNew();
            foreach (var file in parse.GetValue(data)!)
                trainer.AddTexts(TextCorpus.Read(file, parse.GetValue(fields)!), ct);
            double countSeconds = clock.Elapsed.TotalSeconds;
            var tok = trainer.Train(ct);
            double totalSeconds = clock.Elapsed.TotalSeconds;
            string dir = parse.GetValue(outDir)!;
            tok.Save(dir);
            Console.WriteLine($"trained {tok.VocabSize} tokens ({tok.Merges.Count} merges) on {trainer.BytesSeen / 1e6:F1} MB, "
                + $"{trainer.DistinctWords} distinct pre-tokens, in {totalSeconds:F1} s (counting {countSeconds:F1} s); wrote {dir}");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static Command CreatePairs()
    {
        var tokenizer = TokenizerOption();
        var data = new Option<string>("--data") { Description = "Preference JSONL: prompt + chosen + rejected, or prompt + responses.", Required = true };
        var template = new Option<string>("--template") { Description = "Prompt template: hh (transcripts as they are), plain (\"Human: {prompt}\\n\\nAssistant: {response}\") or chat.", DefaultValueFactory = _ => "hh" };
        template.AcceptOnlyFromAmong([.. PromptTemplate.Names]);
        var maxLength = new Option<int>("--max-length") { Description = "Longest sequence in tokens (end-of-text included).", DefaultValueFactory = _ => 512 };
        var onOverflow = new Option<string>("--on-overflow") { Description = "Overlong pairs: truncate (cut the prompt's start, then the response's end), drop, or error.", DefaultValueFactory = _ => "truncate" };
        onOverflow.AcceptOnlyFromAmong("truncate", "drop", "error");
        var appendEos = new Option<bool>("--append-eos") { Description = "Append <|endoftext|> after each response." };
        var batchSize = new Option<int>("--batch-size") { Description = "Batch size for the padding report.", DefaultValueFactory = _ => 8 };
        var seed = new Option<int>("--seed") { Description = "Seed of the length-bucketed batching.", DefaultValueFactory = _ => 0 };
        var outFile = new Option<string?>("--out") { Description = "Write {\"ids\":[...],\"response_start\":n} per response to this JSONL file." };
        var command = new Command("pairs", "Encode preference pairs through a prompt template with truncation; report truncations and padding.")
        {
            tokenizer, data, template, maxLength, onOverflow, appendEos, batchSize, seed, outFile,
        };
        command.SetAction((parse, ct) =>
        {
            var tok = ByteLevelBpeTokenizer.FromDirectory(parse.GetValue(tokenizer)!);
            var options = new SequenceOptions
            {
                MaxLength = parse.GetValue(maxLength),
                OnOverflow = Enum.Parse<OverflowPolicy>(parse.GetValue(onOverflow)!, ignoreCase: true),
                AppendEndOfText = parse.GetValue(appendEos),
            };
            var encoder = new SequenceEncoder(tok, options, PromptTemplate.FromName(parse.GetValue(template)!));
            var report = new TruncationReport();
            string path = parse.GetValue(data)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"pairs file '{path}' does not exist.", path);
            var sequences = new List<EncodedSequence>();
            var pairLengths = new List<int>();
            string? outPath = parse.GetValue(outFile);
            using var writer = outPath is null ? null : new StreamWriter(outPath, false, new UTF8Encoding(false)) { NewLine = "\n" };
            int lineNumber = 0;
            foreach (var line in File.ReadLines(path))
            {
                ct.ThrowIfCancellationRequested();
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                using var doc = JsonDocument.Parse(line);
                string[] responseFields = doc.RootElement.TryGetProperty("responses", out _) ? ["responses"] : ["chosen", "rejected"];
                var prompt = TextCorpus.FieldsOf(line, path, lineNumber, ["prompt"])[0];
                var responses = TextCorpus.FieldsOf(line, path, lineNumber, responseFields);
                int longest = 0;
                bool dropped = false;
                for (int i = 0; i < responses.Count; i++)
                {
                    var s = encoder.Encode(prompt, responses[i], report, $"{path}:{lineNumber} {(responseFields.Length == 1 ? $"responses[{i}]" : responseFields[i])}");
                    if (s is null) { dropped = true; continue; }
                    sequences.Add(s);
                    longest = Math.Max(longest, s.Length);
                    writer?.WriteLine($"{{\"line\":{lineNumber},\"ids\":[{string.Join(',', s.Ids)}],\"response_start\":{s.ResponseStart}}}");
                }
                if (!dropped) pairLengths.Add(longest);
            }
            var bucketed = LengthBuckets.Plan(pairLengths, new BatchingOptions { BatchSize = parse.GetValue(batchSize), Seed = parse.GetValue(seed) });
            var unbucketed = LengthBuckets.Plan(pairLengths, new BatchingOptions { BatchSize = parse.GetValue(batchSize), Seed = parse.GetValue(seed), BucketBatches = 1 });
            var lengths = sequences.Select(s => s.Length).Order().ToArray();
            Console.WriteLine($"{path}: {report}");
            if (lengths.Length > 0)
                Console.WriteLine($"sequence length: median {lengths[lengths.Length / 2]}, p95 {lengths[(int)(lengths.Length * 0.95)]}, max {lengths[^1]} tokens (limit {options.MaxLength})");
            Console.WriteLine($"padding fraction with batch size {parse.GetValue(batchSize)}: {bucketed.PaddingFraction:P1} length-bucketed, {unbucketed.PaddingFraction:P1} random batches");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static Command CreateConvert()
    {
        var tokenizer = TokenizerOption();
        var outDir = new Option<string>("--out") { Description = "Folder to write tokenizer.json, vocab.json, merges.txt and the Hugging Face config files into.", Required = true };
        var command = new Command("convert", "Rewrite a tokenizer (e.g. GPT-2's encoder.json + vocab.bpe) as tokenizer.json + vocab.json + merges.txt.") { tokenizer, outDir };
        command.SetAction((parse, ct) =>
        {
            var tok = ByteLevelBpeTokenizer.FromDirectory(parse.GetValue(tokenizer)!);
            tok.Save(parse.GetValue(outDir)!);
            Console.WriteLine($"wrote {tok.VocabSize} tokens ({tok.Merges.Count} merges, end-of-text {tok.EndOfTextId}, pad {tok.PadId}) to {parse.GetValue(outDir)}");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static int[] ReadIds(string line, int lineNumber)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("ids", out var ids)) root = ids;
            if (root.ValueKind != JsonValueKind.Array)
                throw new UserErrorException($"stdin:{lineNumber}: expected {{\"ids\":[...]}} or a JSON array of ids.");
            var result = new int[root.GetArrayLength()];
            int i = 0;
            foreach (var e in root.EnumerateArray())
            {
                if (!e.TryGetInt32(out result[i]))
                    throw new UserErrorException($"stdin:{lineNumber}: ids[{i}] is {e.GetRawText()}, not an integer id.");
                i++;
            }
            return result;
        }
        catch (JsonException e)
        {
            throw new UserErrorException($"stdin:{lineNumber}: not valid JSON ({e.Message}).", e);
        }
    }

    static void WriteIds(TextWriter output, int[] ids)
    {
        output.Write(JsonSerializer.Serialize(new IdsLine(ids), RelaxedJson));
        output.Write('\n');
    }

    /// <summary>One output line of <c>tokenizer encode</c>.</summary>
    sealed record IdsLine([property: JsonPropertyName("ids")] int[] Ids);

    /// <summary>One output line of <c>tokenizer decode</c>.</summary>
    sealed record TextLine([property: JsonPropertyName("text")] string Text);

    static StreamReader StdIn() => new(Console.OpenStandardInput(), new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, 1 << 16);

    static StreamWriter StdOut() => new(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
}
