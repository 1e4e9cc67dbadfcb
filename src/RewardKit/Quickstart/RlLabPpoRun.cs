using RewardKit.Generation;
using RewardKit.Inference;
using RewardKit.Models;
using RewardKit.Rl;
using RewardKit.Tensors.Kernels;

namespace RewardKit.Quickstart;

/// <summary>
/// The lab's PPO run, in segments of <see cref="RlLabOptions.EvalEvery"/> steps: each segment resumes the run's checkpoint
/// (bit-identical to one uninterrupted run) and ends with a held-out evaluation, a point of the curve; with
/// <see cref="RlLabOptions.StopOnGoldGap"/> the run stops at the first evaluation whose gold reward fell that much below the
/// best while proxy reward rose, and keeps the best evaluation's policy.
/// </summary>
internal sealed class PpoRun(RlLab lab, string sftPolicy, GptRewardModel rewardModel, RewardScorer scorer, WorkerPool pool, string directory)
{
    readonly RlLabOptions _o = lab.Options;

    public (OverOptimisationCurve Curve, long Steps, bool Stopped, string Kept) Run(IReadOnlyList<string> train, IReadOnlyList<string> heldOut, CancellationToken ct)
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);   // a fresh run: no stale checkpoint to resume
        var points = new List<CurvePoint>();
        var best = Path.Combine(directory, "best-policy");
        int bestIndex = 0;
        long steps = 0;
        bool stopped = false;
        lab.Say($"PPO: {_o.Ppo.MaxSteps} steps of {_o.Ppo.PromptsPerStep} prompts x {_o.Ppo.SamplesPerPrompt} samples, kl_coef {_o.Ppo.KlCoefficient}, "
            + $"held-out evaluation every {_o.EvalEvery} steps" + (_o.StopOnGoldGap is { } g ? $", stopping when gold falls {g} below its best while proxy rises" : ""));
        while (steps < _o.Ppo.MaxSteps && !stopped)
        {
            steps = Math.Min(steps + _o.EvalEvery, _o.Ppo.MaxSteps);
            var result = Segment(train, heldOut, steps, ct);
            if (points.Count == 0) points.Add(Point(0, result.Before));
            points.Add(Point(steps, result.After));
            if (points[^1].GoldReward > points[bestIndex].GoldReward)
            {
                bestIndex = points.Count - 1;
                if (_o.StopOnGoldGap is not null) CopyDirectory(Path.Combine(directory, "policy"), best);
            }
            stopped = _o.StopOnGoldGap is { } gap && points[^1].GoldReward < points[bestIndex].GoldReward - gap
                && points[^1].ProxyReward > points[bestIndex].ProxyReward;
            lab.Say($"    step {steps}: proxy {points[^1].ProxyReward:0.000}, gold {points[^1].GoldReward:0.000}, KL {points[^1].Kl:0.00} nats"
                + (stopped ? $"; gold fell from {points[bestIndex].GoldReward:0.000} (step {points[bestIndex].Step}) while proxy rose: stopped" : ""));
        }
        string kept = Path.Combine(directory, "policy");
        if (_o.StopOnGoldGap is not null) kept = bestIndex == 0 ? sftPolicy : best;
        return (new OverOptimisationCurve("ppo", points, _o.Tolerance), steps, stopped, kept);
    }

    RlRunResult Segment(IReadOnlyList<string> train, IReadOnlyList<string> heldOut, long until, CancellationToken ct)
    {
        var options = _o.Ppo with { Algorithm = RlAlgorithm.Ppo, MaxSteps = (int)until, Seed = _o.RewardModel.Seed, Threads = _o.RewardModel.Threads };
        var policy = Policy.Load(sftPolicy);
        var trainer = new RlTrainer(policy, new RlRewards([scorer], options), RlTrainer.CriticFor(policy, rewardModel), options, pool);
        return trainer.Train(train, heldOut, directory, resume: true, lab.RlProgress, ct);
    }

    static CurvePoint Point(long step, RlEvaluation e) =>
        new($"step {step}", e.Kl, e.ProxyReward, e.GoldReward ?? throw new InvalidDataException("PPO: the held-out prompts are not world prompts; the lab needs the world's gold judge."), Step: step);

    static void CopyDirectory(string from, string to)
    {
        if (Directory.Exists(to)) Directory.Delete(to, recursive: true);
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
