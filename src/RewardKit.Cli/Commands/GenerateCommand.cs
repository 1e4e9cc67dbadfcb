using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using RewardKit.Data;
using RewardKit.Generation;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit generate --policy DIR --prompts FILE [--n K] --out FILE [--temperature --top-k --top-p --max-new-tokens
/// --seed --greedy --logprobs --threads --batch-size --template --skip-invalid --json]</c>: responses of a policy to a
/// prompts file, as JSON Lines (<see cref="PolicyGeneration"/>).
/// </summary>
public static class GenerateCommand
{
    /// <summary>Builds the <c>generate</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var defaults = new SamplingOptions();
        var policy = new Option<string>("--policy") { Description = "The policy folder (GPT2LMHeadModel: made by `rewardkit sft`, or a Hugging Face GPT-2 folder).", Required = true };
        var prompts = new Option<string>("--prompts") { Description = "JSONL with a 'prompt' field per line, or any pairs/rankings/ratings file (each prompt once).", Required = true };
        var output = new Option<string>("--out") { Description = "JSONL output: prompt, response, tokens, finish_reason, sample (and logprobs) per line.", Required = true };
        var n = new Option<int>("--n") { Description = "Responses per prompt, each with its own seed (default 1).", DefaultValueFactory = _ => 1 };
        var temperature = new Option<float>("--temperature") { Description = "Divides the logits before sampling; must be > 0 (default 1).", DefaultValueFactory = _ => defaults.Temperature };
        var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely tokens; 0 = off (default 0).", DefaultValueFactory = _ => defaults.TopK };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling: the most likely tokens up to probability p; 1 = off (default 1).", DefaultValueFactory = _ => defaults.TopP };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "The most tokens per response, EOS included (default 64).", DefaultValueFactory = _ => defaults.MaxNewTokens };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed: the same seed gives the same file for any batch size or thread count (default 0)." };
        var greedy = new Option<bool>("--greedy") { Description = "Take the most likely token every step (temperature, top-k, top-p and seed unused)." };
        var logprobs = new Option<bool>("--logprobs") { Description = "Also write each token's log-probability under the sampling temperature (before top-k/top-p)." };
        var threads = new Option<int>("--threads") { Description = "Worker threads (0 = all cores; default 0)." };
        var batch = new Option<int>("--batch-size") { Description = "Sequences generated together (default 32).", DefaultValueFactory = _ => 32 };
        var template = new Option<string?>("--template") { Description = "Override the folder's prompt template: plain, hh (text as is) or chat." };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Skip invalid prompt records (they are counted and listed) instead of stopping at the first." };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON line." };
        var command = new Command("generate", "Generate responses of a policy to a prompts file (JSONL out).")
        {
            policy, prompts, output, n, temperature, topK, topP, maxNew, seed, greedy, logprobs, threads, batch, template, skipInvalid, json,
        };
        command.SetAction((parse, ct) =>
        {
            var options = new GenerateFileOptions
            {
                SamplesPerPrompt = parse.GetValue(n),
                BatchSize = parse.GetValue(batch),
                IncludeLogProbs = parse.GetValue(logprobs),
                Reader = new ReaderOptions { SkipInvalid = parse.GetValue(skipInvalid) },
                Sampling = new SamplingOptions
                {
                    MaxNewTokens = parse.GetValue(maxNew), Greedy = parse.GetValue(greedy), Temperature = parse.GetValue(temperature),
                    TopK = parse.GetValue(topK), TopP = parse.GetValue(topP), Seed = parse.GetValue(seed),
                },
            }.Validate();
            if (parse.GetValue(threads) < 0) throw new UserErrorException($"--threads {parse.GetValue(threads)}: use 0 (all cores) or a positive count.");
            var loaded = Policy.Load(parse.GetValue(policy)!, parse.GetValue(template));
            using var pool = new WorkerPool(parse.GetValue(threads));
            var bar = new StderrBar();
            var result = PolicyGeneration.GenerateFile(loaded, parse.GetValue(prompts)!, parse.GetValue(output)!, options, pool,
                bar, ct);
            bar.Finish();
            Report(result, parse.GetValue(output)!, parse.GetValue(json));
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }

    static void Report(GenerateFileResult r, string output, bool json)
    {
        foreach (var issue in r.Read.Records.Skipped.Take(20)) Console.Error.WriteLine($"skipped {issue}");
        if (r.Read.Records.SkippedCount > 20) Console.Error.WriteLine($"... and {r.Read.Records.SkippedCount - 20} more skipped records");
        Console.Error.WriteLine($"prompts: {r.Read.Summary()}");
        if (r.TruncatedPrompts > 0) Console.Error.WriteLine($"{r.TruncatedPrompts} prompts were longer than n_positions − max_new_tokens and kept their last tokens.");
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                prompts = r.Prompts, responses = r.Responses, tokens = r.Tokens, tokens_per_s = Math.Round(r.TokensPerSecond, 1),
                stopped_at_eos = r.StoppedAtEos, truncated_prompts = r.TruncatedPrompts, skipped = r.Read.Records.SkippedCount,
                seconds = Math.Round(r.Elapsed.TotalSeconds, 3), output,
            }));
        else
            Console.WriteLine($"generated {r.Responses:N0} responses to {r.Prompts:N0} prompts: {r.Tokens:N0} tokens in {r.Elapsed.TotalSeconds:0.0} s "
                + $"({r.TokensPerSecond:N0} tokens/s, {r.StoppedAtEos:N0} stopped at EOS) -> {output}");
    }

    /// <summary>A progress bar on stderr, redrawn at most every 200 ms and at the end.</summary>
    sealed class StderrBar : IProgress<GenerationProgress>
    {
        readonly Stopwatch _lastDraw = Stopwatch.StartNew();
        bool _drawn;

        public void Report(GenerationProgress p)
        {
            if (_drawn && _lastDraw.ElapsedMilliseconds < 200 && p.PromptsDone < p.PromptsTotal) return;
            _lastDraw.Restart();
            _drawn = true;
            double fraction = p.PromptsTotal == 0 ? 1 : (double)p.PromptsDone / p.PromptsTotal;
            int filled = (int)(fraction * 30);
            Console.Error.Write($"\r[{new string('#', filled)}{new string('.', 30 - filled)}] {fraction,4:P0} {p.PromptsDone:N0}/{p.PromptsTotal:N0} prompts {p.TokensPerSecond:N0} tokens/s ");
        }

        public void Finish()
        {
            if (_drawn) Console.Error.WriteLine();
        }
    }
}
