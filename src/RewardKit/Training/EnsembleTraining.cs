using System.Text.Json;
using RewardKit.Distributed;
using RewardKit.IO;
using RewardKit.Models.Ensemble;
using RewardKit.Tensors;

namespace RewardKit.Training;

/// <summary>
/// Trains an ensemble (<see cref="RewardTrainingOptions.Ensemble"/> = K): member k is an ordinary run with seed + k on a
/// bootstrap resample of the training pairs (seeded from its own seed), written to <c>OUT/members/member-k</c> (model,
/// checkpoint, metrics.jsonl; <c>--resume</c> continues each member where it stopped); then <c>OUT/model</c> becomes the
/// ensemble folder holding a copy of every member (<see cref="EnsembleFolder"/>).
/// </summary>
internal static class EnsembleTraining
{
    /// <summary>The folder of every member's run inside the output folder.</summary>
    public const string MembersFolder = "members";

    /// <summary>Trains the K members in turn, then writes the ensemble folder (rank 0 only under mpirun).</summary>
    public static TrainingResult Train(RewardTrainer trainer, IReadOnlyList<string> trainPaths, string? evalPath, string outputDirectory, CancellationToken ct)
    {
        var o = trainer.Options;
        var results = new List<TrainingResult>(o.Ensemble);
        var seeds = Enumerable.Range(0, o.Ensemble).Select(k => o.Seed + (ulong)k).ToArray();
        for (int k = 0; k < o.Ensemble; k++)
        {
            var prefix = $"member {k + 1}/{o.Ensemble}: ";
            var member = new RewardTrainer(o with { Ensemble = 1, Seed = seeds[k] })
            {
                Progress = trainer.Progress is { } p ? new Progress(p, prefix) : null,
                Metrics = trainer.Metrics, AfterStep = trainer.AfterStep, ConfigureModel = trainer.ConfigureModel, Communicator = trainer.Communicator,
                BootstrapSeed = BootstrapSeedOf(seeds[k]),
            };
            var result = member.Train(trainPaths, evalPath, Path.Combine(outputDirectory, MembersFolder, EnsembleFolder.MemberName(k)), ct);
            if (result.Cancelled) return result;
            results.Add(result);
        }
        var modelDirectory = Path.Combine(outputDirectory, "model");
        if (trainer.Communicator.IsRoot()) Save(trainer, results, seeds, outputDirectory, modelDirectory);
        trainer.Progress?.Report(new TrainingProgress(TrainingStage.Saving, results[^1].Steps, results[^1].Steps, double.NaN, 0,
            $"ensemble of {o.Ensemble} members saved to {modelDirectory}"));
        return results[^1] with
        {
            ModelDirectory = modelDirectory, CheckpointDirectory = null, Checks = results[0].Checks,
            BestEvalMetrics = MeanOf(results.Select(r => r.BestEvalMetrics)),
        };
    }

    /// <summary>The bootstrap seed of the member trained with <paramref name="seed"/> (recorded through the seed: rewardkit.json's ensemble_seeds).</summary>
    public static ulong BootstrapSeedOf(ulong seed) => seed ^ 0xB007_57A9_0000_0001UL;

    /// <summary>A bootstrap resample of <paramref name="split"/>'s pairs: as many draws with replacement as there are pairs.</summary>
    public static EncodedSplit Resample(EncodedSplit split, ulong seed)
    {
        var rng = new Rng(seed);
        var pairs = new EncodedPair[split.Pairs.Count];
        for (int i = 0; i < pairs.Length; i++) pairs[i] = split.Pairs[rng.NextInt(pairs.Length)];
        return split with { Pairs = pairs };
    }

    static void Save(RewardTrainer trainer, IReadOnlyList<TrainingResult> results, IReadOnlyList<ulong> seeds, string outputDirectory, string modelDirectory)
    {
        var members = results.Select(r => r.ModelDirectory!).ToArray();
        var first = RewardModelMetadata.Load(members[0]);
        var metadata = new RewardModelMetadata
        {
            Name = Path.GetFileName(Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar)),
            Template = first.Template, AppendEndOfText = first.AppendEndOfText, MaxLength = first.MaxLength,
            RewardMean = 0,   // the members are centred on their own training means
            RewardStd = members.Average(m => RewardModelMetadata.Load(m).RewardStd),
            Extra = new Dictionary<string, JsonElement>
            {
                ["training_options"] = JsonSerializer.SerializeToElement(trainer.Options.ToYaml()),
                ["final_eval_metrics"] = JsonSerializer.SerializeToElement(MeanOf(results.Select(r => r.BestEvalMetrics))),
            },
        };
        EnsembleFolder.Save(members, seeds, modelDirectory, metadata);
    }

    /// <summary>Each metric's mean over the members that report it.</summary>
    static Dictionary<string, double> MeanOf(IEnumerable<IReadOnlyDictionary<string, double>> rows) =>
        rows.SelectMany(r => r).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Average(kv => kv.Value));

    /// <summary>Passes a member's progress on with its name before every message.</summary>
    sealed class Progress(IProgress<TrainingProgress> inner, string prefix) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => inner.Report(value.Message is null ? value : value with { Message = prefix + value.Message });
    }
}
