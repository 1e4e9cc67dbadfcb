using System.CommandLine;
using RewardKit.Benchmarks;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit bench generate --preset tiny|small|gpt2 [--batch --new-tokens --prompt-tokens --layers --d-model --heads
/// --vocab --warmup --repeats --threads --seed] [--json]</c>: greedy KV-cache generation tokens/s, doing the work of
/// bench/torch_generate_bench.py.
/// </summary>
public static class BenchGenerateCommand
{
    /// <summary>Builds the <c>bench generate</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var preset = new Option<string?>("--preset") { Description = "tiny, small or gpt2 (torch_rm_bench.py's shapes, prompts of half its seq); explicit flags override it. Default: small's shape." };
        var batch = new Option<int?>("--batch") { Description = "Sequences generated together (default 32)." };
        var newTokens = new Option<int?>("--new-tokens") { Description = "Tokens generated per sequence, greedy, no EOS stop (default 64)." };
        var promptTokens = new Option<int?>("--prompt-tokens") { Description = "Tokens per prompt (preset default)." };
        var layers = new Option<int?>("--layers") { Description = "Transformer blocks." };
        var dModel = new Option<int?>("--d-model") { Description = "Embedding width." };
        var heads = new Option<int?>("--heads") { Description = "Attention heads (must divide --d-model)." };
        var vocab = new Option<int?>("--vocab") { Description = "Vocabulary size." };
        var warmup = new Option<int?>("--warmup") { Description = "Untimed rounds, then on until the JIT settles (default 1)." };
        var repeats = new Option<int?>("--repeats") { Description = "Timed rounds; best and median reported (default 5)." };
        var threads = new Option<int?>("--threads") { Description = "Threads, the caller included (default 2)." };
        var seed = new Option<int?>("--seed") { Description = "Seed of the model; prompts use seed + 1 (default 1234)." };
        var json = new Option<bool>("--json") { Description = "Print exactly one JSON line of results." };
        var command = new Command("generate", "Greedy KV-cache generation tokens/s, beside bench/torch_generate_bench.py.")
        {
            preset, batch, newTokens, promptTokens, layers, dModel, heads, vocab, warmup, repeats, threads, seed, json,
        };
        command.SetAction((parse, ct) =>
        {
            var name = parse.GetValue(preset);
            var o = name is null ? new GenerationBenchOptions() : GenerationBenchOptions.FromPreset(name);
            o = (o with
            {
                Batch = parse.GetValue(batch) ?? o.Batch,
                NewTokens = parse.GetValue(newTokens) ?? o.NewTokens,
                PromptTokens = parse.GetValue(promptTokens) ?? o.PromptTokens,
                Layers = parse.GetValue(layers) ?? o.Layers,
                DModel = parse.GetValue(dModel) ?? o.DModel,
                Heads = parse.GetValue(heads) ?? o.Heads,
                Vocab = parse.GetValue(vocab) ?? o.Vocab,
                Warmup = parse.GetValue(warmup) ?? o.Warmup,
                Repeats = parse.GetValue(repeats) ?? o.Repeats,
                Threads = parse.GetValue(threads) ?? o.Threads,
                Seed = parse.GetValue(seed) ?? o.Seed,
            }).Validate();
            bool asJson = parse.GetValue(json);
            var report = GenerationBench.Run(o, asJson ? null : Console.WriteLine, ct);
            if (asJson) Console.WriteLine(report.ToJsonLine());
            else Console.WriteLine($"config: L={o.Layers} d={o.DModel} H={o.Heads} V={o.Vocab} batch={o.Batch} prompt={o.PromptTokens} new={o.NewTokens} "
                + $"threads={report["threads"]} isa={report["cpu_capability"]} params={report["params"]}; peak RSS {report["peak_rss_mb"]:F0} MB");
            return Task.FromResult(CliApp.Success);
        });
        return command;
    }
}
