using RewardKit.Tensors;

namespace RewardKit.Training.Losses;

/// <summary>The explicit L2 penalty λ‖φ‖² (besides AdamW's decoupled decay).</summary>
public static class Regression
{
    /// <summary>λ · Σ over <paramref name="parameters"/> of Σ φ², shape ().</summary>
    public static Tensor L2Penalty(Tape tape, IEnumerable<Tensor> parameters, float lambda)
    {
        if (!(lambda >= 0)) throw new ArgumentOutOfRangeException(nameof(lambda), $"L2Penalty: λ must be ≥ 0, got {lambda}.");
        Tensor? total = null;
        foreach (var p in parameters)
        {
            var s = tape.Sum(tape.Mul(p, p));
            total = total is null ? s : tape.Add(total, s);
        }
        return tape.Scale(total ?? throw new ArgumentException("L2Penalty: no parameters.", nameof(parameters)), lambda);
    }
}
