using RewardKit.Tensors;

namespace RewardKit.Training.Losses;

/// <summary>
/// Triplet loss on rewards, as read from the seeds: mean(max(0, d(a, p) − d(a, n) + m)) with d(x, y) = |x − y|, where
/// the anchor a is a reference reward (e.g. of a reference response to the same prompt), p the preferred and n the
/// rejected response's reward: the preferred response should sit closer to the anchor than the rejected one by m.
/// </summary>
public static class Triplet
{
    /// <summary>The loss, shape (). All inputs (N); margin m ≥ 0 (default 1).</summary>
    public static Tensor Loss(Tape tape, Tensor anchor, Tensor positive, Tensor negative, float margin = 1f)
    {
        Shapes.RequireEqual("Triplet.Loss", anchor, positive);
        Shapes.RequireEqual("Triplet.Loss", anchor, negative);
        var dPositive = Abs(tape, tape.Sub(anchor, positive));
        var dNegative = Abs(tape, tape.Sub(anchor, negative));
        return tape.Mean(tape.Relu(tape.AddScalar(tape.Sub(dPositive, dNegative), margin)));
    }

    static Tensor Abs(Tape tape, Tensor x) => tape.Add(tape.Relu(x), tape.Relu(tape.Scale(x, -1f)));
}
