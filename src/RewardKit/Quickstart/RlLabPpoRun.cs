using RewardKit.Generation;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Rl;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Quickstart;

/// <summary>
/// The lab's PPO run: one <see cref="RlTrainer"/> run with a held-out evaluation every <see cref="RlLabOptions.EvalEvery"/>
/// steps (each a point of the curve); with <see cref="RlLabOptions.StopOnGoldGap"/> it stops at the first evaluation whose
/// gold reward fell that much below the best while proxy reward rose, and keeps the best evaluation's policy.
/// </summary>
internal sealed class PpoRun(RlLab lab, string sftPolicy, GptRewardModel rewardModel, RewardScorer scorer, WorkerPool pool, string directory)
{
    readonly RlLabOptions _o = lab.Options;
    readonly List<CurvePoint> _points = [];
    int _best;

    public (OverOptimisationCurve Curve, long Steps, bool Stopped, string Kept) Run(IReadOnlyList<string> train, IReadOnlyList<string> heldOut, CancellationToken ct)
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);   // a fresh run: no stale checkpoint or metrics
        var options = _o.Ppo with { Algorithm = RlAlgorithm.Ppo, EvalEvery = _o.EvalEvery, Seed = _o.RewardModel.Seed, Threads = _o.RewardModel.Threads };
        var policy = Policy.Load(sftPolicy);
        var trainer = new RlTrainer(policy, new RlRewards([scorer], options), RlTrainer.CriticFor(policy, rewardModel), options, pool);
        // Every held-out prompt EvalSamplesPerPrompt times: each copy is a sample of its own seed, so the mean is less noisy.
        var evalPrompts = Enumerable.Repeat(heldOut, _o.EvalSamplesPerPrompt).SelectMany(p => p).ToList();
        lab.Say($"PPO: {options.MaxSteps} steps of {options.PromptsPerStep} prompts x {options.SamplesPerPrompt} samples, kl_coef {options.KlCoefficient}, "
            + $"held-out evaluation ({heldOut.Count} prompts x {_o.EvalSamplesPerPrompt} samples) every {_o.EvalEvery} steps"
            + (_o.StopOnGoldGap is { } g ? $", stopping when gold falls {g} below its best while proxy rises" : ""));
        Add(0, trainer.Evaluate(evalPrompts, policy.Model, ct));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var best = Path.Combine(directory, "best-policy");
        var observer = new Observer(p =>
        {
            lab.RlProgress?.Report(p);
            if (!p.Row.TryGetValue("eval/gold_reward", out double gold)) return;
            if (Add(p.Step, p.Row["eval/proxy_reward"], gold, p.Row["eval/kl"]) && _o.StopOnGoldGap is not null) policy.Save(best);
            if (GapOpened()) stop.Cancel();
        });
        try
        {
            var result = trainer.Train(train, evalPrompts, directory, resume: false, observer, stop.Token);
            if (Add(result.Steps, result.After) && _o.StopOnGoldGap is not null) policy.Save(best);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            lab.Say($"    gold fell from {_points[_best].GoldReward:0.000} ({_points[_best].Label}) to {_points[^1].GoldReward:0.000} while proxy rose: stopped");
            return (Curve(), _points[^1].Step ?? 0, true, _best == 0 ? sftPolicy : best);
        }
        string kept = _o.StopOnGoldGap is null ? Path.Combine(directory, "policy") : _best == 0 ? sftPolicy : best;
        return (Curve(), _points[^1].Step ?? 0, false, kept);
    }

    OverOptimisationCurve Curve() => new("ppo", _points, _o.Tolerance);

    bool GapOpened() => _o.StopOnGoldGap is { } gap && _points[^1].GoldReward < _points[_best].GoldReward - gap && _points[^1].ProxyReward > _points[_best].ProxyReward;

    bool Add(long step, RlEvaluation e) =>
        Add(step, e.ProxyReward, e.GoldReward ?? throw new InvalidDataException("PPO: the held-out prompts are not world prompts; the lab needs the world's gold judge."), e.Kl);

    /// <summary>Adds a point; true when it has the highest gold reward so far.</summary>
    bool Add(long step, double proxy, double gold, double kl)
    {
        _points.Add(new CurvePoint($"step {step}", kl, proxy, gold, Step: step));
        lab.Say($"    step {step}: proxy {proxy:0.000}, gold {gold:0.000}, KL {kl:0.00} nats");
        if (_points.Count > 1 && gold <= _points[_best].GoldReward) return false;
        _best = _points.Count - 1;
        return true;
    }

    /// <summary>Reports synchronously on the training thread.</summary>
    sealed class Observer(Action<RlProgress> report) : IProgress<RlProgress>
    {
        public void Report(RlProgress value) => report(value);
    }
}
