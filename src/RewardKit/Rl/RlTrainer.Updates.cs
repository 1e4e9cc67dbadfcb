// Shapes: B rows of a rollout, R its longest response, N = Σ response tokens, V vocabulary, P policy parameters.
using RewardKit.Models;
using RewardKit.Tensors;

namespace RewardKit.Rl;

public sealed partial class RlTrainer
{
    /// <summary>What a step's updates measured (means over minibatches).</summary>
    sealed record UpdateStats(double ApproxKl, double ClipFraction, double PolicyLoss, double Ratio, double Value = 0, double ValueClipFraction = 0)
    {
        public void AddTo(Dictionary<string, double> row)
        {
            row["policy/approxkl_avg"] = ApproxKl;
            row["policy/clipfrac_avg"] = ClipFraction;
            row["loss/policy_avg"] = PolicyLoss;
            row["val/ratio"] = Ratio;
            row["loss/value_avg"] = Value;
            row["val/clipfrac_avg"] = ValueClipFraction;
        }
    }

    /// <summary>
    /// The per-token advantages (and value targets, when a critic learns) of the algorithm, with the objective/* metrics.
    /// PPO/TRPO: token rewards = score at the last token − β·klₜ, GAE, whitening. REINFORCE/RLOO: the sequence reward
    /// score − β·Σₜklₜ (TRL RLOO's rlhf_reward) minus a baseline, spread over the tokens.
    /// </summary>
    (float[] Advantages, float[]? Returns) Advantages(Rollout r, Dictionary<string, double> row)
    {
        var kl = KlPenalty.PerToken(_options.KlEstimator, r.OldLogProbs, r.ReferenceLogProbs, r.Lengths, r.Width);
        var klSeq = KlPenalty.PerSequence(kl, r.Lengths, r.Width);
        double beta = _kl.Value;
        var rlhf = r.Scores.Select((s, b) => (float)(s - beta * klSeq[b])).ToArray();
        row["objective/kl"] = klSeq.Average();
        row["objective/entropy"] = KlPenalty.PerSequence(r.Entropy, r.Lengths, r.Width).Zip(r.Lengths, (e, n) => (double)e / Math.Max(1, n)).Average();
        row["objective/non_score_reward"] = -beta * klSeq.Average();
        row["objective/rlhf_reward"] = rlhf.Average();
        row["objective/scores"] = r.Scores.Average();
        row["objective/proxy_reward"] = r.Proxy.Average();
        row["val/num_eos_tokens"] = r.EndedWithEos.Count(e => e);
        if (!double.IsFinite(row["objective/kl"]) || row["objective/kl"] > _options.MaxKl)
            throw new Training.TrainingDivergedException(
                $"rl: the KL to the reference reached {row["objective/kl"]:G4} nats (max_kl {_options.MaxKl}); the policy is running away from the reference. Resume from the last checkpoint with a larger kl_coef or a lower learning_rate.", 0, null);

        float[] advantages;
        float[]? returns = null;
        switch (_options.Algorithm)
        {
            case RlAlgorithm.Ppo or RlAlgorithm.Trpo:
                var tokenRewards = KlPenalty.TokenRewards(kl, r.Scores, r.Lengths, r.Width, beta);
                (advantages, returns) = RewardKit.Rl.Advantages.Gae(tokenRewards, r.Values!, r.Lengths, r.Width, _options.Gamma, _options.Lambda);
                break;
            case RlAlgorithm.Rloo:
                advantages = RewardKit.Rl.Advantages.Broadcast(RewardKit.Rl.Advantages.LeaveOneOut(rlhf, _options.SamplesPerPrompt), r.Lengths, r.Width);
                break;
            default:
                (advantages, returns) = ReinforceAdvantages(r, rlhf);
                break;
        }
        if (_options.WhitenAdvantages) RewardKit.Rl.Advantages.Whiten(advantages, r.Lengths, r.Width);
        return (advantages, returns);
    }

    (float[] Advantages, float[]? Returns) ReinforceAdvantages(Rollout r, float[] rlhf)
    {
        switch (_options.Baseline)
        {
            case ReinforceBaseline.BatchMean:
                return (RewardKit.Rl.Advantages.Broadcast(RewardKit.Rl.Advantages.MinusBatchMean(rlhf), r.Lengths, r.Width), null);
            case ReinforceBaseline.MovingAverage:
                var (perSequence, baseline) = RewardKit.Rl.Advantages.MovingAverageBaseline(rlhf, _movingBaseline, _options.BaselineDecay);
                _movingBaseline = baseline;
                return (RewardKit.Rl.Advantages.Broadcast(perSequence, r.Lengths, r.Width), null);
            default:   // learned value: Aₜ = R − Vₜ, the critic regressed on R
                var returns = RewardKit.Rl.Advantages.Broadcast(rlhf, r.Lengths, r.Width);
                var advantages = new float[returns.Length];
                for (int i = 0; i < advantages.Length; i++) advantages[i] = returns[i] - r.Values![i];
                return (advantages, returns);
        }
    }

    /// <summary>PPO's (and REINFORCE/RLOO's) policy update: epochs over shuffled minibatches, each one <see cref="Training.TrainingStep"/>.</summary>
    UpdateStats PolicyUpdate(Rollout r, float[] advantages, long step)
    {
        double kl = 0, clip = 0, loss = 0, ratio = 0;
        int count = 0;
        var rng = new Rng(unchecked(_options.Seed * 31 + (ulong)step * 2 + 1));
        for (int epoch = 0; epoch < _options.EpochsFor; epoch++)
        {
            bool stop = false;
            foreach (var global in MiniBatches(r.Rows, rng))
            {
                var (rows, share) = ShardMinibatch(r, global);   // this rank's rows (all of them in one process)
                PpoLossTerms? terms = null;
                var result = _policyStep.Run(_updates++, 1, (tape, _) =>
                {
                    if (rows.Length == 0) return Training.DataParallel.NoRows(tape);
                    var (batch, gather, _) = r.Select(rows);
                    var lp = _policy.Model.ResponseLogProbs(tape, batch, _options.Temperature, entropy: _options.Loss.EntropyCoefficient > 0);
                    terms = PpoLoss.Compute(tape, _options.Loss, lp.LogProbs, lp.Mask, gather(r.OldLogProbs), gather(advantages), entropy: lp.Entropy);
                    return Training.DataParallel.ScaledLoss(tape, terms.Loss, share, lp.Lengths.Sum());
                });
                var stats = ShareWeighted(share, terms?.ApproxKl ?? 0, terms?.ClipFraction ?? 0, terms?.MeanRatio ?? 0);
                kl += stats[0];
                clip += stats[1];
                loss += result.Loss;
                ratio += stats[2];
                count++;
                if (_options.TargetApproxKl is { } target && stats[0] > target) { stop = true; break; }
            }
            if (stop) break;
        }
        return new UpdateStats(kl / count, clip / count, loss / count, ratio / count);
    }

    /// <summary>The critic's update: epochs over minibatches of the clipped value loss toward <paramref name="returns"/>.</summary>
    (double Loss, double ClipFraction) CriticUpdate(Rollout r, float[] returns, long step)
    {
        double loss = 0, clip = 0;
        int count = 0;
        var rng = new Rng(unchecked(_options.Seed * 37 + (ulong)step * 2 + 1));
        for (int epoch = 0; epoch < _options.EpochsFor; epoch++)
            foreach (var global in MiniBatches(r.Rows, rng))
            {
                var (rows, share) = ShardMinibatch(r, global);
                double fraction = 0;
                var result = _criticStep!.Run(_criticUpdates++, 1, (tape, _) =>
                {
                    if (rows.Length == 0) return Training.DataParallel.NoRows(tape);
                    var (batch, gather, lengths) = r.Select(rows);
                    var values = _critic!.Values(tape, batch);
                    var mask = Mask(tape, lengths, values.Dim(1));
                    var (valueLoss, f) = PpoLoss.ClippedValueLoss(tape, values, mask, gather(r.Values!), gather(returns), _options.Loss.ClipRangeValue);
                    fraction = f;
                    return Training.DataParallel.ScaledLoss(tape, valueLoss, share, lengths.Sum());
                });
                loss += result.Loss;
                clip += ShareWeighted(share, fraction)[0];
                count++;
            }
        return (loss / count, clip / count);
    }

    static Tensor Mask(Tape tape, int[] lengths, int width)
    {
        var mask = tape.Zeros([lengths.Length, width]);
        for (int b = 0; b < lengths.Length; b++) mask.Data.Slice(b * width, lengths[b]).Fill(1f);
        return mask;
    }

    IEnumerable<int[]> MiniBatches(int rows, Rng rng)
    {
        var order = Enumerable.Range(0, rows).ToArray();
        rng.Shuffle<int>(order);
        int n = _options.MiniBatches;
        for (int m = 0; m < n; m++)
        {
            int from = m * rows / n, to = (m + 1) * rows / n;
            if (to > from) yield return order[from..to];
        }
    }

    /// <summary>
    /// TRPO's policy step (Schulman et al. 2015): g = ∇ of the surrogate mean(ρ·A) at θ₀, s = CG(F, g) with damped Fisher-vector
    /// products of the mean KL (over every <see cref="RlOptions.TrpoFisherEvery"/>-th row), the step √(2δ / sᵀFs)·s, and a backtracking line search that keeps the first fraction that
    /// improves the surrogate with the exact mean KL(π_old ‖ π) ≤ δ.
    /// </summary>
    UpdateStats TrpoUpdate(Rollout r, float[] advantages, long step)
    {
        var parameters = _policy.Model.Parameters;
        var model = _policy.Model;
        double before = Surrogate(r, advantages, gradient: true);
        var g = parameters.Gradients.ToArray();
        for (int i = 0; i < g.Length; i++) g[i] = -g[i];   // the gradient of the loss −L is stored; g = ∇L
        parameters.ZeroGrad();
        var fisherBatch = _options.TrpoFisherEvery == 1 ? r.Batch
            : r.Select([.. Enumerable.Range(0, r.Rows).Where(b => b % _options.TrpoFisherEvery == 0)]).Batch;
        var fisher = new PolicyFisher(model, fisherBatch, _options.Temperature, _options.TrpoDamping, _pool);
        var direction = NaturalGradient.ConjugateGradient(fisher.Product, g, _options.TrpoCgIterations);
        double scale = NaturalGradient.StepScale(direction, fisher.Product(direction), _options.TrpoMaxKl);
        var fullStep = direction.Select(d => (float)(scale * d)).ToArray();
        var oldLogits = TemperedLogSoftmax(model, r.Batch);
        double acceptedKl = 0, acceptedSurrogate = before;
        double fraction = NaturalGradient.LineSearch(parameters, fullStep, () =>
        {
            double surrogate = Surrogate(r, advantages, gradient: false);
            double kl = MeanKl(oldLogits, TemperedLogSoftmax(model, r.Batch));
            (acceptedKl, acceptedSurrogate) = (kl, surrogate);
            return (surrogate, kl);
        }, before, _options.TrpoMaxKl);
        if (fraction == 0) (acceptedKl, acceptedSurrogate) = (0, before);
        _updates++;
        return new UpdateStats(acceptedKl, 0, -acceptedSurrogate, 1);
    }

    /// <summary>L = masked mean of exp(log π − log π_old)·A; with <paramref name="gradient"/> the gradient of −L lands in the policy's gradients.</summary>
    double Surrogate(Rollout r, float[] advantages, bool gradient)
    {
        var tape = gradient ? _tape : _inference;
        if (gradient) _policy.Model.Parameters.ZeroGrad();
        var lp = _policy.Model.ResponseLogProbs(tape, r.Batch, _options.Temperature);
        var terms = PpoLoss.Compute(tape, _options.Loss with { ClipRange = 1e30, EntropyCoefficient = 0 }, lp.LogProbs, lp.Mask, r.OldLogProbs, advantages);
        double value = -terms.PolicyLoss.ToScalar();
        if (gradient) tape.Backward(terms.PolicyLoss);
        tape.Reset();
        return value;
    }

    /// <summary>(N·V) log softmax(logits / τ) at the positions predicting response tokens.</summary>
    float[] TemperedLogSoftmax(GptLanguageModel model, TokenBatch batch)
    {
        var layout = ResponseLayout.Of(batch);
        var z = model.Logits(_inference, batch, layout.PredictingRows).ToArray();
        _inference.Reset();
        int v = model.Config.VocabSize;
        for (int row = 0; row < z.Length / v; row++)
        {
            var x = z.AsSpan(row * v, v);
            double max = double.NegativeInfinity, sum = 0;
            foreach (var t in x) max = Math.Max(max, t / _options.Temperature);
            foreach (var t in x) sum += Math.Exp(t / _options.Temperature - max);
            double log = max + Math.Log(sum);
            for (int k = 0; k < v; k++) x[k] = (float)(x[k] / _options.Temperature - log);
        }
        return z;
    }

    double MeanKl(float[] oldLogProbs, float[] newLogProbs)
    {
        int v = _policy.Model.Config.VocabSize, rows = oldLogProbs.Length / v;
        double total = 0;
        for (int i = 0; i < oldLogProbs.Length; i++) total += Math.Exp(oldLogProbs[i]) * (oldLogProbs[i] - newLogProbs[i]);
        return total / Math.Max(1, rows);
    }
}
