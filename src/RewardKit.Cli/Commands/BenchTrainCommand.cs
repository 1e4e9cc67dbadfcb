using System.CommandLine;
using RewardKit.Benchmarks;

namespace RewardKit.Cli.Commands;

/// <summary>
/// <c>rewardkit bench train --preset tiny|small|gpt2 [--layers --d-model --heads --seq --vocab --pairs-per-batch --steps
/// --warmup --repeats --threads --seed] [--json]</c>: reward-model training pairs/s, doing the work of
/// ../shared/bench/torch_rm_bench.py's training phase (bench/compare.sh runs the two alternately).
/// </summary>
public static class BenchTrainCommand
{
    /// <summary>Builds the <c>bench train</c> command: its options, their help and its action.</summary>
    public static Command Create()
    {
        var flags = new BenchModelFlags(inference: false);
        var command = new Command("train", "Reward-model training pairs/s (Bradley-Terry, AdamW, clipping), beside ../shared/bench/torch_rm_bench.py.");
        flags.AddTo(command);
        // Under mpirun -np N: data-parallel over the ranks (each takes its share of every batch); rank 0 prints.
        command.SetAction((parse, ct) => Task.FromResult(MpiJob.Run(communicator =>
            flags.Run(parse, log => RewardModelBench.Train(flags.Bind(parse), communicator, log, ct)))));
        return command;
    }
}

/// <summary>The flags <c>bench train</c> and <c>bench infer</c> share, named as torch_rm_bench.py names them.</summary>
sealed class BenchModelFlags
{
    readonly bool _inference;
    readonly Option<string?> _preset = new("--preset") { Description = "tiny, small or gpt2 (as torch_rm_bench.py); explicit flags override it. Default: small's shape." };
    readonly Option<int?> _layers = new("--layers") { Description = "Transformer blocks." };
    readonly Option<int?> _dModel = new("--d-model") { Description = "Embedding width." };
    readonly Option<int?> _heads = new("--heads") { Description = "Attention heads (must divide --d-model)." };
    readonly Option<int?> _seq = new("--seq") { Description = "Padded sequence length T." };
    readonly Option<int?> _vocab = new("--vocab") { Description = "Vocabulary size." };
    readonly Option<int?> _pairs = new("--pairs-per-batch") { Description = "Training batch in preference pairs (default 8)." };
    readonly Option<int?> _inferBatch = new("--infer-batch") { Description = "Inference batch in sequences (default 32)." };
    readonly Option<int?> _steps;
    readonly Option<int?> _warmup;
    readonly Option<int?> _repeats = new("--repeats") { Description = "Timed rounds; best and median reported (default 3)." };
    readonly Option<int?> _threads = new("--threads") { Description = "Threads, the caller included (default 2)." };
    readonly Option<int?> _seed = new("--seed") { Description = "Seed of the model; batches use seed + 1 (default 1234)." };
    readonly Option<bool> _json = new("--json") { Description = "Print exactly one JSON line of results." };
    readonly Option<bool> _recompute = new("--recompute-attention") { Description = "Training: recompute the attention probabilities in the backward instead of keeping them (less memory, more compute)." };
    readonly Option<bool> _gemmFloor = new("--gemm-floor") { Description = "Also time the step's matrix products alone (a lower bound on the step time)." };
    readonly Option<int?> _loraR = new("--lora-r") { Description = "Training: LoRA rank (0 = full fine-tuning): freeze the model and train rank-r adapters on every Conv1D layer and the head." };
    readonly Option<bool> _fullLastBlock = new("--full-last-block") { Description = "Compute every row of the last block, as the reference does (default: only the rows the reward reads)." };

    public BenchModelFlags(bool inference)
    {
        _inference = inference;
        _steps = inference
            ? new Option<int?>("--steps", "--infer-steps") { Description = "Timed inference batches per round (preset default)." }
            : new Option<int?>("--steps") { Description = "Timed training steps per round (preset default)." };
        _warmup = inference
            ? new Option<int?>("--warmup", "--infer-warmup") { Description = "Untimed inference batches (preset default)." }
            : new Option<int?>("--warmup") { Description = "Untimed training steps (preset default)." };
    }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _preset, _layers, _dModel, _heads, _seq, _vocab, _pairs, _inferBatch, _steps, _warmup, _repeats, _threads, _seed, _json, _gemmFloor, _fullLastBlock, _recompute })
            command.Options.Add(o);
        if (!_inference) command.Options.Add(_loraR);
    }

    /// <summary>The preset (or the reference's base) with every given flag applied, validated.</summary>
    public RewardModelBenchOptions Bind(ParseResult parse)
    {
        var preset = parse.GetValue(_preset);
        var o = preset is null ? new RewardModelBenchOptions() : RewardModelBenchOptions.FromPreset(preset);
        o = o with
        {
            Layers = parse.GetValue(_layers) ?? o.Layers,
            DModel = parse.GetValue(_dModel) ?? o.DModel,
            Heads = parse.GetValue(_heads) ?? o.Heads,
            Seq = parse.GetValue(_seq) ?? o.Seq,
            Vocab = parse.GetValue(_vocab) ?? o.Vocab,
            PairsPerBatch = parse.GetValue(_pairs) ?? o.PairsPerBatch,
            InferBatch = parse.GetValue(_inferBatch) ?? o.InferBatch,
            Repeats = parse.GetValue(_repeats) ?? o.Repeats,
            Threads = parse.GetValue(_threads) ?? o.Threads,
            Seed = parse.GetValue(_seed) ?? o.Seed,
            GemmFloor = parse.GetValue(_gemmFloor),
            FullLastBlock = parse.GetValue(_fullLastBlock),
            RecomputeAttention = parse.GetValue(_recompute),
            LoraR = _inference ? 0 : parse.GetValue(_loraR) ?? 0,
        };
        o = _inference
            ? o with { InferSteps = parse.GetValue(_steps) ?? o.InferSteps, InferWarmup = parse.GetValue(_warmup) ?? o.InferWarmup }
            : o with { Steps = parse.GetValue(_steps) ?? o.Steps, Warmup = parse.GetValue(_warmup) ?? o.Warmup };
        return o.Validate();
    }

    /// <summary>Runs <paramref name="bench"/> and prints its report (one JSON line with --json, else a summary).</summary>
    public int Run(ParseResult parse, Func<Action<string>?, BenchReport> bench)
    {
        bool json = parse.GetValue(_json);
        var report = bench(json ? null : Console.WriteLine);
        if (json) Console.WriteLine(report.ToJsonLine());
        else
        {
            Console.WriteLine($"config: L={report["layers"]} d={report["d_model"]} H={report["heads"]} T={report["seq"]} V={report["vocab"]} " +
                $"threads={report["threads"]} isa={report["cpu_capability"]} params={report["params"]}");
            Console.WriteLine($"peak RSS {report["peak_rss_mb"]:F0} MB; RSS after warm-up {report["rss_mb_after_warmup"]:F0} MB, at the end {report["rss_mb_end"]:F0} MB");
        }
        return CliApp.Success;
    }
}
