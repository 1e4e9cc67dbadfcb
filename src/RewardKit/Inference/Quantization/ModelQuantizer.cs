using System.Diagnostics;
using System.Text.Json.Nodes;
using RewardKit.Data;
using RewardKit.IO;
using RewardKit.Models.Quantization;
using RewardKit.Models;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Inference.Quantization;

/// <summary>Options of <see cref="ModelQuantizer.Quantize"/>.</summary>
public sealed record ModelQuantizerOptions
{
    /// <summary>Preference pairs the cost is measured on (JSONL/CSV pairs, e.g. the validation split). Required.</summary>
    public required string DataFile { get; init; }

    /// <summary>At most this many pairs are read from <see cref="DataFile"/> (default 2000; 0 = all).</summary>
    public int MaxPairs { get; init; } = 2000;

    /// <summary>Sequences per forward pass when timing both models (default 32, the scorer's serving batch).</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Timed passes over the data per model, interleaved float/int8; the median is reported (default 3).</summary>
    public int Repeats { get; init; } = 3;

    /// <summary>Worker threads for both models (default 1; 0 = all cores).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Check the source weights against its rewardkit.json <c>version</c> before quantising (default true).</summary>
    public bool VerifyVersion { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataFile)) throw new ArgumentException("ModelQuantizerOptions.DataFile: pass preference pairs (e.g. validation.jsonl).", nameof(DataFile));
        if (MaxPairs < 0) throw new ArgumentException($"ModelQuantizerOptions.MaxPairs: must be ≥ 0 (0 = all), got {MaxPairs}.", nameof(MaxPairs));
        if (BatchSize < 1) throw new ArgumentException($"ModelQuantizerOptions.BatchSize: must be ≥ 1, got {BatchSize}.", nameof(BatchSize));
        if (Repeats < 1) throw new ArgumentException($"ModelQuantizerOptions.Repeats: must be ≥ 1, got {Repeats}.", nameof(Repeats));
        if (Threads < 0) throw new ArgumentException($"ModelQuantizerOptions.Threads: must be ≥ 0, got {Threads}.", nameof(Threads));
    }
}

/// <summary>What <see cref="ModelQuantizer.Quantize"/> wrote and measured.</summary>
/// <param name="OutputDirectory">The quantised model folder.</param>
/// <param name="Version">Its version (sha256 of its model.safetensors).</param>
/// <param name="SourceVersion">The float model's version.</param>
/// <param name="Cost">Preference agreement and reward deltas on the data.</param>
/// <param name="Sequences">Sequences scored per timed pass (2 per pair).</param>
/// <param name="FloatSeconds">Median seconds of a float pass.</param>
/// <param name="Int8Seconds">Median seconds of an int8 pass.</param>
/// <param name="FloatRuns">Every float pass, in order.</param>
/// <param name="Int8Runs">Every int8 pass, in order.</param>
/// <param name="Layers">Conv1D layers quantised.</param>
/// <param name="FloatWeightBytes">Bytes of those layers' weights as float32.</param>
/// <param name="Int8WeightBytes">Bytes as int8 plus scales.</param>
/// <param name="Isa">The integer micro-kernel used.</param>
/// <param name="Threads">Worker threads of both models.</param>
public sealed record QuantizationReport(string OutputDirectory, string Version, string SourceVersion, QuantizationCost Cost, int Sequences,
    double FloatSeconds, double Int8Seconds, double[] FloatRuns, double[] Int8Runs, int Layers, long FloatWeightBytes, long Int8WeightBytes,
    string Isa, int Threads)
{
    /// <summary>Float time over int8 time (above 1: the int8 model scores faster).</summary>
    public double SpeedUp => FloatSeconds / Int8Seconds;

    /// <summary>The record stored under <c>quantization.cost</c> in rewardkit.json (snake_case, as the CLI prints it).</summary>
    public JsonObject ToJson() => new()
    {
        ["pairs"] = Cost.Pairs,
        ["preference_agreement"] = Cost.PreferenceAgreement,
        ["max_abs_reward_delta"] = Cost.MaxAbsRewardDelta,
        ["mean_abs_reward_delta"] = Cost.MeanAbsRewardDelta,
        ["sequences"] = Sequences,
        ["float_seconds"] = FloatSeconds,
        ["int8_seconds"] = Int8Seconds,
        ["speedup"] = SpeedUp,
        ["float_runs"] = new JsonArray(FloatRuns.Select(r => (JsonNode)r).ToArray()),
        ["int8_runs"] = new JsonArray(Int8Runs.Select(r => (JsonNode)r).ToArray()),
        ["layers"] = Layers,
        ["float_weight_bytes"] = FloatWeightBytes,
        ["int8_weight_bytes"] = Int8WeightBytes,
        ["isa"] = Isa,
        ["threads"] = Threads,
    };
}

/// <summary>
/// <c>rewardkit quantize</c>: quantises a float GPT reward model folder to int8 (<see cref="QuantizedConv1D"/>), writes the
/// folder atomically (<see cref="QuantizedModelFolder"/>), and measures what it cost on preference pairs by loading the
/// written folder through <see cref="GptModelLoader"/> and scoring the same sequences with both models, interleaved.
/// </summary>
public static class ModelQuantizer
{
    /// <summary>Quantises <paramref name="modelDirectory"/> into <paramref name="outputDirectory"/> and reports the measured cost.</summary>
    public static QuantizationReport Quantize(string modelDirectory, string outputDirectory, ModelQuantizerOptions options,
        IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!Directory.Exists(modelDirectory)) throw new DirectoryNotFoundException($"{modelDirectory}: model folder not found; pass a folder made by `rewardkit train`.");
        if (!File.Exists(options.DataFile)) throw new FileNotFoundException($"{options.DataFile}: --data file not found.", options.DataFile);
        var (model, metadata) = RewardModelFolder.Load(modelDirectory, options.VerifyVersion);
        if (QuantizedModelFolder.IsQuantized(metadata))
            throw new ArgumentException($"{modelDirectory}: this model is already quantised (rewardkit.json has '{QuantizedModelFolder.MetadataKey}'); quantise the float model it came from.", nameof(modelDirectory));

        var (allPairs, _) = PreferenceReader.ReadAllPairs(options.DataFile, null, cancellationToken);
        var pairs = options.MaxPairs > 0 ? allPairs.Take(options.MaxPairs).ToList() : allPairs.ToList();
        if (pairs.Count == 0) throw new InvalidDataException($"{options.DataFile}: no preference pairs to measure the cost on.");

        progress?.Report($"quantising {QuantizedConv1D.Conv1DWeights(model).Count()} Conv1D layers");
        var layers = QuantizedConv1D.QuantizeWeights(model);
        QuantizedConv1D.WriteDequantized(model, layers);

        // Stage next to the output, measure from the staged folder (the real loader), then move it into place.
        var full = Path.GetFullPath(outputDirectory).TrimEnd(Path.DirectorySeparatorChar);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var staging = full + ".quantize-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var written = QuantizedModelFolder.Save(model, layers, metadata, modelDirectory, staging);
            using var pool = options.Threads == 1 ? null : new WorkerPool(options.Threads);
            using var floatModel = GptModelLoader.Load(modelDirectory, pool, options.VerifyVersion);
            using var int8Model = GptModelLoader.Load(staging, pool);
            var sequences = new List<int[]>(2 * pairs.Count);
            foreach (var p in pairs) { sequences.Add(floatModel.Encode(p.Prompt, p.Chosen)); sequences.Add(floatModel.Encode(p.Prompt, p.Rejected)); }

            var floatRewards = new float[sequences.Count];
            var int8Rewards = new float[sequences.Count];
            var floatRuns = new double[options.Repeats];
            var int8Runs = new double[options.Repeats];
            LengthSortedScoring.Score(floatModel, sequences.Take(Math.Min(64, sequences.Count)).ToList(), new float[Math.Min(64, sequences.Count)], options.BatchSize, cancellationToken);   // warm-up (JIT)
            LengthSortedScoring.Score(int8Model, sequences.Take(Math.Min(64, sequences.Count)).ToList(), new float[Math.Min(64, sequences.Count)], options.BatchSize, cancellationToken);
            for (int r = 0; r < options.Repeats; r++)
            {
                progress?.Report($"timing pass {r + 1}/{options.Repeats} ({sequences.Count} sequences per model)");
                floatRuns[r] = Time(() => LengthSortedScoring.Score(floatModel, sequences, floatRewards, options.BatchSize, cancellationToken));
                int8Runs[r] = Time(() => LengthSortedScoring.Score(int8Model, sequences, int8Rewards, options.BatchSize, cancellationToken));
            }
            var cost = QuantizationCost.Measure(
                Every(floatRewards, 0), Every(floatRewards, 1), Every(int8Rewards, 0), Every(int8Rewards, 1));
            long floatBytes = layers.Values.Sum(l => 4L * l.Values.LongLength);
            long int8Bytes = layers.Values.Sum(l => l.Bytes);
            var report = new QuantizationReport(full, written.Version, metadata.Version, cost, sequences.Count, Median(floatRuns), Median(int8Runs),
                floatRuns, int8Runs, layers.Count, floatBytes, int8Bytes, Int8Gemm.BestIsa.ToString(), pool?.Threads ?? 1);

            // Store the cost in the staged rewardkit.json, then swap the staged folder into place.
            var staged = RewardModelMetadata.Load(staging);
            var record = System.Text.Json.Nodes.JsonNode.Parse(staged.Extra![QuantizedModelFolder.MetadataKey].GetRawText())!.AsObject();
            record["cost"] = report.ToJson();
            staged.Extra[QuantizedModelFolder.MetadataKey] = System.Text.Json.JsonSerializer.SerializeToElement(record);
            staged.Save(staging);
            AtomicFile.ReplaceDirectory(staging, full);
            return report;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    static float[] Every(float[] rewards, int offset)
    {
        var r = new float[rewards.Length / 2];
        for (int i = 0; i < r.Length; i++) r[i] = rewards[2 * i + offset];
        return r;
    }

    static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalSeconds;
    }

    static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
