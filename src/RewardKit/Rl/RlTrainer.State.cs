using RewardKit.Data.World;
using RewardKit.Distributed;
using RewardKit.Generation;
using RewardKit.Inference;
using RewardKit.Models;

namespace RewardKit.Rl;

public sealed partial class RlTrainer
{
    /// <summary>
    /// The held-out evaluation of <paramref name="model"/>: one response per prompt sampled at the rollout temperature with
    /// the fixed <see cref="RlOptions.EvalSeed"/> (the same seeds before and after training), scored by the combined reward
    /// models (proxy) and, when every prompt is a world prompt, by the world's gold judge; KL and entropy from the same samples.
    /// As one rank of a data-parallel job, each rank evaluates its share of the prompts and the sums are combined (the samples
    /// shown come from rank 0's share).
    /// </summary>
    public RlEvaluation Evaluate(IReadOnlyList<string> prompts, GptLanguageModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(model);
        if (prompts.Count == 0) return new RlEvaluation(double.NaN, null, 0, 0, []);
        bool world = prompts.All(GoldJudge.IsWorldPrompt);
        double proxy = 0, gold = 0, kl = 0, entropy = 0;
        var samples = new List<(string, string, double, double?)>();
        var sampling = new SamplingOptions { MaxNewTokens = _options.MaxNewTokens, Temperature = _options.Temperature, Seed = _options.EvalSeed };
        const int chunk = 32;
        var (offset, count) = _dp.Communicator.Shard(prompts.Count).GetOffsetAndLength(prompts.Count);
        for (int from = offset; from < offset + count; from += chunk)
        {
            var texts = prompts.Skip(from).Take(Math.Min(chunk, offset + count - from)).ToArray();
            var ids = texts.Select(t => _policy.EncodePrompt(t, PromptBudget, out _)).ToArray();
            var generated = new TokenGenerator(model, _pool).Generate(ids, sampling,
                [.. texts.Select((_, i) => SamplingOptions.RowSeed(_options.EvalSeed, from + i, 0))], cancellationToken);
            var batch = generated.ToTokenBatch();
            var (lp, ent, lengths, width) = LogProbs(model, batch, entropy: true);
            var (reference, _, _, _) = LogProbs(_reference, batch, entropy: false);
            var klSeq = KlPenalty.PerSequence(KlPenalty.PerToken(KlEstimator.K1, lp, reference, lengths, width), lengths, width);
            var entSeq = KlPenalty.PerSequence(ent!, lengths, width);
            var responses = generated.Tokens.Select(t => _policy.DecodeResponse(t)).ToArray();
            var scores = _rewards.Proxy([.. texts.Select((t, i) => new ScoringItem(t, responses[i]))], cancellationToken);
            for (int i = 0; i < texts.Length; i++)
            {
                double? g = world ? GoldJudge.Judge(texts[i], responses[i]).Reward : null;
                proxy += scores[i];
                gold += g ?? 0;
                kl += klSeq[i];
                entropy += entSeq[i] / Math.Max(1, lengths[i]);
                if (samples.Count < 8) samples.Add((texts[i], responses[i], scores[i], g));
            }
        }
        int n = prompts.Count;
        if (_dp.Size > 1)
        {
            var sums = new[] { proxy, gold, kl, entropy };
            _dp.Communicator.AllreduceSum(sums);
            (proxy, gold, kl, entropy) = (sums[0], sums[1], sums[2], sums[3]);
        }
        return new RlEvaluation(proxy / n, world ? gold / n : null, kl / n, entropy / n, samples);
    }

    RlCheckpoint.Contents Snapshot(long step)
    {
        var tensors = new Dictionary<string, float[]> { ["policy"] = _policy.Model.Parameters.Values.ToArray() };
        foreach (var (name, values) in _policyStep.Optimizer.SaveState()) tensors["policy_optimizer." + name] = values;
        if (_critic is not null)
        {
            tensors["critic"] = _critic.Parameters.Values.ToArray();
            foreach (var (name, values) in _criticStep!.Optimizer.SaveState()) tensors["critic_optimizer." + name] = values;
        }
        var state = new RlState
        {
            Step = step, Algorithm = _options.Algorithm.ToString().ToLowerInvariant(), Seed = _options.Seed, KlCoefficient = _kl.Value,
            Baseline = _movingBaseline, Updates = [_updates, _criticUpdates], RewardScaling = _rewards.State with { },
        };
        return new RlCheckpoint.Contents(state, tensors);
    }

    /// <summary>Restores weights, optimisers and counters from the checkpoint in <paramref name="directory"/>; returns its step (0 without one).</summary>
    long RestoreIfPresent(string directory)
    {
        var c = ShareCheckpoint(directory);   // rank 0's, on every rank
        if (c is null) return 0;
        var algo = _options.Algorithm.ToString().ToLowerInvariant();
        if (c.State.Algorithm != algo || c.State.Seed != _options.Seed)
            throw new InvalidDataException($"{directory}: the checkpoint is of --algo {c.State.Algorithm} --seed {c.State.Seed}, not --algo {algo} --seed {_options.Seed}; resume with the same settings or use another --out.");
        Restore(c.Tensors, "policy", _policy.Model.Parameters.Values, directory);
        _policyStep.Optimizer.LoadState(Prefixed(c.Tensors, "policy_optimizer."));
        if (_critic is not null)
        {
            Restore(c.Tensors, "critic", _critic.Parameters.Values, directory);
            _criticStep!.Optimizer.LoadState(Prefixed(c.Tensors, "critic_optimizer."));
        }
        _kl.Value = c.State.KlCoefficient;
        _movingBaseline = c.State.Baseline;
        (_updates, _criticUpdates) = (c.State.Updates[0], c.State.Updates[1]);
        _rewards.State = c.State.RewardScaling with { };
        return c.State.Step;
    }

    static void Restore(IReadOnlyDictionary<string, float[]> tensors, string name, Span<float> target, string directory)
    {
        if (!tensors.TryGetValue(name, out var values) || values.Length != target.Length)
            throw new InvalidDataException($"{directory}: the checkpoint's '{name}' does not fit this model ({(values?.Length ?? 0)} values for {target.Length}); resume with the same --policy and --reward-model, or use another --out.");
        values.CopyTo(target);
    }

    static Dictionary<string, float[]> Prefixed(IReadOnlyDictionary<string, float[]> tensors, string prefix) =>
        tensors.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(t => t.Key[prefix.Length..], t => t.Value);
}
