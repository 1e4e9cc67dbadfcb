using System.CommandLine;
using System.Text.Json;
using RewardKit.Data;
using RewardKit.Generation;
using RewardKit.Inference;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit best-of-n</c>: pick the best of n responses to a prompt, either given (<c>--model DIR --prompt P --response
/// A --response B ...</c>) or sampled from a policy for every prompt of a file (<c>--policy DIR --reward-model DIR --prompts
/// FILE --n N --out FILE</c>, <see cref="BestOfN.ChooseFile"/>), whose KL to the policy is log n − (n−1)/n.
/// </summary>
public static class BestOfNCommand
{
    /// <summary>Builds the <c>best-of-n</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var sampling = new SamplingOptions();
        var model = new Option<string?>("--model", "--reward-model") { Description = "The reward model folder (made by `rewardkit train`)." };
        var prompt = new Option<string?>("--prompt") { Description = "The prompt (with --response)." };
        var responses = new Option<string[]>("--response") { Description = "A candidate response; repeat the option for each.", Arity = ArgumentArity.OneOrMore };
        var policy = new Option<string?>("--policy") { Description = "Sample the candidates from this policy folder instead (with --prompts, --n and --out)." };
        var prompts = new Option<string?>("--prompts") { Description = "With --policy: JSONL with a 'prompt' field per line, or any pairs/rankings/ratings file." };
        var n = new Option<int>("--n") { Description = "With --policy: responses sampled per prompt (default 4).", DefaultValueFactory = _ => 4 };
        var output = new Option<string?>("--out") { Description = "With --policy: JSONL out, one line per prompt: prompt, response, reward, sample, n, rewards (and gold_reward, gold_kind on world prompts)." };
        var temperature = new Option<float>("--temperature") { Description = "With --policy: sampling temperature (default 1).", DefaultValueFactory = _ => sampling.Temperature };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "With --policy: the most tokens per response, EOS included (default 64).", DefaultValueFactory = _ => sampling.MaxNewTokens };
        var seed = new Option<ulong>("--seed") { Description = "With --policy: sampling seed (sample s of prompt p is line s of `generate --n`'s for p; default 0)." };
        var threads = new Option<int>("--threads") { Description = "With --policy: worker threads (0 = all cores; default 0)." };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "With --policy: skip invalid prompt records (counted) instead of stopping at the first." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON: {\"best_index\", \"reward\", \"probability_best\", \"response\"}, or with --policy the summary {\"prompts\", \"n\", \"kl\", \"mean_reward\", ...}." };
        var skipVersion = ScoringCli.SkipVersionCheckOption();
        var command = new Command("best-of-n", "Pick the best of n responses to a prompt, or sample n per prompt from a policy and keep the reward model's best.")
        {
            model, prompt, responses, policy, prompts, n, output, temperature, maxNew, seed, threads, skipInvalid, json, skipVersion,
        };
        command.SetAction(async (parse, ct) =>
        {
            var modelDir = parse.GetValue(model) ?? throw new UserErrorException("best-of-n: give the reward model with --model DIR (or --reward-model DIR).");
            using var loaded = ScoringCli.Load(modelDir, parse.GetValue(skipVersion));
            if (parse.GetValue(policy) is null)
                return await GivenResponses(new RewardScorer(loaded), parse.GetValue(prompt), parse.GetValue(responses), parse.GetValue(json), ct);
            if (parse.GetValue(prompt) is not null || parse.GetValue(responses) is { Length: > 0 })
                throw new UserErrorException("best-of-n: --policy samples the responses; drop --prompt and --response (or drop --policy to rank given responses).");
            var options = new BestOfNOptions
            {
                N = parse.GetValue(n),
                Reader = new ReaderOptions { SkipInvalid = parse.GetValue(skipInvalid) },
                Sampling = new SamplingOptions { Temperature = parse.GetValue(temperature), MaxNewTokens = parse.GetValue(maxNew), Seed = parse.GetValue(seed) },
            }.Validate();
            var promptsFile = parse.GetValue(prompts) ?? throw new UserErrorException("best-of-n --policy: give the prompts with --prompts FILE.");
            var outFile = parse.GetValue(output) ?? throw new UserErrorException("best-of-n --policy: give the output file with --out FILE.");
            if (parse.GetValue(threads) < 0) throw new UserErrorException($"--threads {parse.GetValue(threads)}: use 0 (all cores) or a positive count.");
            using var pool = new WorkerPool(parse.GetValue(threads));
            var result = BestOfN.ChooseFile(Policy.Load(parse.GetValue(policy)!), new RewardScorer(loaded, new RewardScorerOptions { BatchSize = 32 }),
                promptsFile, outFile, options, pool, new ProgressLine(), ct);
            Console.Error.WriteLine();
            Report(result, outFile, parse.GetValue(json));
            return CliApp.Success;
        });
        return command;
    }

    static async Task<int> GivenResponses(RewardScorer scorer, string? prompt, string[]? texts, bool json, CancellationToken ct)
    {
        if (prompt is null || texts is not { Length: > 0 })
            throw new UserErrorException("best-of-n: give --prompt and one --response per candidate, or --policy DIR --prompts FILE --out FILE to sample them.");
        var best = await scorer.BestOfNAsync(prompt, texts, ct);
        Console.WriteLine(json
            ? JsonSerializer.Serialize(new { best_index = best.Index, reward = best.Score.Raw, probability_best = best.ProbabilityBest, response = texts[best.Index] })
            : $"best: [{best.Index}] reward {best.Score.Raw:0.####} P(best) {best.ProbabilityBest:0.###}\n{texts[best.Index]}");
        return CliApp.Success;
    }

    static void Report(BestOfNFileResult r, string output, bool json)
    {
        foreach (var issue in r.Read.Records.Skipped.Take(20)) Console.Error.WriteLine($"skipped {issue}");
        Console.Error.WriteLine($"prompts: {r.Read.Summary()}");
        if (json)
        {
            var summary = new Dictionary<string, object?>
            {
                ["prompts"] = r.Prompts, ["n"] = r.N, ["kl"] = Math.Round(r.Kl, 6), ["mean_reward"] = Math.Round(r.MeanReward, 6),
            };
            if (r.MeanGoldReward is { } g) summary["mean_gold_reward"] = Math.Round(g, 6);
            summary["skipped"] = r.Read.Records.SkippedCount;
            summary["seconds"] = Math.Round(r.Elapsed.TotalSeconds, 3);
            summary["output"] = output;
            Console.WriteLine(JsonSerializer.Serialize(summary));
            return;
        }
        Console.WriteLine($"best of {r.N} for {r.Prompts:N0} prompts: mean reward {r.MeanReward:0.###}"
            + (r.MeanGoldReward is { } gold ? $", mean gold reward {gold:0.###}" : "") + $"; KL to the policy log n − (n−1)/n = {r.Kl:0.###} nats -> {output}");
    }

    /// <summary>A one-line progress display on stderr.</summary>
    sealed class ProgressLine : IProgress<GenerationProgress>
    {
        public void Report(GenerationProgress p) =>
            Console.Error.Write($"\rsampling: {p.PromptsDone:N0}/{p.PromptsTotal:N0} prompts {p.TokensPerSecond:N0} tokens/s ");
    }
}
