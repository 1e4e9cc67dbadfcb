using RewardKit.Tensors;

namespace RewardKit.Tests.Training.Losses;

/// <summary>Four (chosen, rejected) reward pairs, a per-pair formula's mean over them in double, and a loss evaluated on them.</summary>
static class PairLossFormula
{
    public static readonly float[] Chosen = [1.0f, 0.2f, -0.5f, 2.5f];
    public static readonly float[] Rejected = [0.0f, 0.4f, -1.5f, 0.5f];

    /// <summary>The mean over the pairs of <paramref name="perPair"/>(chosen − rejected), in double.</summary>
    public static double Mean(Func<double, double> perPair) => Chosen.Select((c, i) => perPair(c - Rejected[i])).Average();

    /// <summary>The loss the engine computes for the pairs.</summary>
    public static float Loss(Func<Tape, Tensor, Tensor, Tensor> loss)
    {
        var tape = new Tape();
        return loss(tape, Tensor.FromArray(Chosen, Chosen.Length), Tensor.FromArray(Rejected, Rejected.Length)).ToScalar();
    }
}
